import pytest

from studio import metrics, presets
from studio.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig


def test_full_report_numbers():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 1, 0]
    report = metrics.full_report(y_true, y_pred, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    rows = {r["label"]: r for r in report["per_class"]}
    assert rows["a"]["precision"] == pytest.approx(2 / 3) and rows["a"]["recall"] == pytest.approx(2 / 3)
    assert rows["c"]["f1"] == 0 and rows["b"]["support"] == 2
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)


def test_summary_names_the_main_confusion():
    report = metrics.full_report([0, 0, 0, 1, 1], [1, 1, 0, 1, 1], ["refund", "billing"])
    text = metrics.summarize(report)
    assert "60.0%" in text and 'confuses "refund" with "billing"' in text and "2 test examples" in text


def test_config_round_trip_and_validation():
    config = RunConfig(data=DataConfig(train_file="t.csv"), model=ModelConfig(method="lora", lora_r=4),
                       train=TrainConfig(epochs=2))
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_dict({**config.to_dict(), "unknown": 1, "train": {"epochs": 3, "old_field": 0}}).train.epochs == 3
    for bad in (dict(learning_rate=2.0), dict(epochs=0), dict(batch_size=0), dict(max_length=4)):
        with pytest.raises(ConfigError):
            RunConfig(data=DataConfig(train_file="t.csv"), train=TrainConfig(**bad)).validate()
    with pytest.raises(ConfigError, match="training file"):
        RunConfig().validate()


def test_presets_scale_learning_rate_with_model_and_method():
    small = presets.preset_settings("balanced", 384)
    base = presets.preset_settings("balanced", 768)
    lora = presets.preset_settings("balanced", 384, "lora")
    head = presets.preset_settings("balanced", 384, "freeze", -1)
    assert small.learning_rate > base.learning_rate
    assert lora.learning_rate == pytest.approx(10 * small.learning_rate)
    assert head.learning_rate > lora.learning_rate
    assert presets.preset_settings("quick").epochs < small.epochs < presets.preset_settings("best").epochs
    with pytest.raises(ValueError):
        presets.preset_settings("turbo")


def test_presets_take_bigger_batches_on_a_gpu():
    assert presets.preset_settings("balanced", 384, device_type="cpu").batch_size == 32
    gpu = presets.preset_settings("balanced", 384, device_type="cuda")
    assert gpu.batch_size == 64
    assert gpu.learning_rate == pytest.approx(2 ** 0.5 * presets.preset_settings("balanced", 384).learning_rate)


def test_build_config_applies_the_preset_for_size_method_and_device():
    data = DataConfig(train_file="t.csv")
    plain = presets.build_config(data, "m", "full", "balanced", "cpu", hidden_size=384, layer_count=6)
    lora = presets.build_config(data, "m", "lora", "balanced", "cpu", hidden_size=384, layer_count=6, lora_r=4)
    head = presets.build_config(data, "m", "freeze", "balanced", "cpu", hidden_size=384, layer_count=6,
                                freeze_layers=6)
    gpu = presets.build_config(data, "m", "full", "balanced", "cuda", hidden_size=384, layer_count=6)
    assert plain.train.learning_rate == pytest.approx(1e-4) and plain.train.batch_size == 32
    assert lora.train.learning_rate == pytest.approx(1e-3) and (lora.model.lora_r, lora.model.lora_alpha) == (4, 8)
    assert head.model.freeze_layers == -1 and head.train.learning_rate == pytest.approx(5e-3)
    assert gpu.train.batch_size == 64 and gpu.train.learning_rate == pytest.approx(2 ** 0.5 * 1e-4)
    assert presets.build_config(data, "m").model.method == "auto"


def test_build_config_keeps_only_the_chosen_methods_settings_and_what_the_user_set():
    data = DataConfig(train_file="t.csv")
    full = presets.build_config(data, "m", "full", freeze_layers=3, lora_r=32)
    assert (full.model.freeze_layers, full.model.lora_r, full.model.lora_alpha) == (0, 8, 16)
    half = presets.build_config(data, "m", "freeze", layer_count=12, freeze_layers=None)
    assert half.model.freeze_layers == 6
    typed = presets.build_config(data, "m", "full", overrides={"learning_rate": 3e-5, "epochs": None})
    assert typed.train.learning_rate == 3e-5 and typed.train.epochs == presets.PRESETS["balanced"].epochs
    with pytest.raises(ConfigError, match="Unknown training setting"):
        presets.build_config(data, "m", overrides={"learning_rat": 1e-4})
    with pytest.raises(ConfigError, match="method"):
        presets.build_config(data, "m", "head")
