"""Every sentence config.validate can answer with, each from the one setting that causes it."""
import pytest

from studio.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig


def _config(data=None, model=None, train=None) -> RunConfig:
    return RunConfig(data=DataConfig(train_file="t.csv", **(data or {})), model=ModelConfig(**(model or {})),
                     train=TrainConfig(**(train or {})))


BAD = [
    ({"model": {"method": "head"}}, "Training method must be one of auto, full, freeze, lora, not 'head'."),
    ({"model": {"method": "lora", "lora_r": 0}}, "LoRA rank must be at least 1 (8 is a good start)."),
    ({"model": {"method": "freeze", "freeze_layers": -2}}, "The number of frozen layers cannot be negative."),
    ({"train": {"learning_rate": 0}}, "Learning rate 0 is out of range; try 1e-4."),
    ({"train": {"learning_rate": 1.5}}, "Learning rate 1.5 is out of range; try 1e-4."),
    ({"train": {"epochs": 0}}, "Train for at least a fraction of an epoch (epochs must be above 0)."),
    ({"train": {"batch_size": 0}}, "Batch size must be at least 1."),
    ({"train": {"max_length": 7}}, "Max length 7 is out of range; choose between 8 and 8192 tokens."),
    ({"train": {"max_length": 8193}}, "Max length 8193 is out of range; choose between 8 and 8192 tokens."),
    ({"train": {"warmup_ratio": 1.0}}, "Warm-up must be a share of training between 0 and 1, e.g. 0.06."),
    ({"train": {"warmup_ratio": -0.1}}, "Warm-up must be a share of training between 0 and 1, e.g. 0.06."),
    ({"train": {"patience": -1}}, "Early-stopping patience cannot be negative (0 turns it off)."),
    ({"train": {"seed": -1}}, "The seed must be a whole number from 0 to 4294967295."),
    ({"train": {"seed": 2 ** 32}}, "The seed must be a whole number from 0 to 4294967295."),
    ({"data": {"val_fraction": 0.5}}, "Validation and test shares must each be between 0 and 0.5 of the data."),
    ({"data": {"test_fraction": -0.1}}, "Validation and test shares must each be between 0 and 0.5 of the data."),
    ({"data": {"max_rows": 9}}, "A row limit below 10 leaves nothing to learn from; raise --max-rows."),
]


@pytest.mark.parametrize("settings, message", BAD, ids=[m[:40] for _, m in BAD])
def test_each_bad_setting_gets_its_sentence(settings, message):
    with pytest.raises(ConfigError) as raised:
        _config(**settings).validate()
    assert str(raised.value) == message


def test_no_training_file_comes_first():
    with pytest.raises(ConfigError) as raised:
        RunConfig(train=TrainConfig(epochs=0)).validate()
    assert str(raised.value) == "Choose a training file first."


@pytest.mark.parametrize("settings", [
    {}, {"model": {"method": "lora", "lora_r": 1}}, {"model": {"method": "freeze", "freeze_layers": -1}},
    {"model": {"method": "full", "lora_r": 0}},     # a LoRA rank matters only to LoRA
    {"train": {"learning_rate": 0.999, "epochs": 0.01, "max_length": 8, "warmup_ratio": 0, "patience": 0,
               "seed": 0}},
    {"train": {"max_length": 8192, "seed": 2 ** 32 - 1}}, {"data": {"val_fraction": 0, "max_rows": 10}},
])
def test_the_edges_of_each_range_are_accepted(settings):
    config = _config(**settings)
    assert config.validate() is config


def test_config_json_round_trip_ignores_unknown_fields():
    config = _config(model={"method": "lora", "lora_r": 4}, train={"epochs": 2})
    assert RunConfig.from_dict(config.to_dict()) == config
    older = {**config.to_dict(), "unknown": 1, "train": {"epochs": 3, "old_field": 0}}
    assert RunConfig.from_dict(older).train == TrainConfig(epochs=3)
