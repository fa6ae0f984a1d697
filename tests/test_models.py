import pytest
import torch

from studio import models


@pytest.fixture
def tiny(tiny_model_dir):
    return models.load_model(str(tiny_model_dir), ["a", "b", "c"])


def _layer_trainable(model):
    return [all(p.requires_grad for p in layer.parameters()) for layer in models.layers_of(model)]


def test_load_sets_label_names_and_float32(tiny):
    assert tiny.config.id2label == {0: "a", 1: "b", 2: "c"}
    assert tiny.config.label2id == {"a": 0, "b": 1, "c": 2}
    assert all(p.dtype == torch.float32 for p in tiny.parameters())


def test_full_finetuning_trains_everything_but_the_word_table(tiny):
    trainable, total = models.count_parameters(models.apply_method(tiny, "full"))
    table = tiny.get_input_embeddings().weight
    assert not table.requires_grad
    assert trainable == total - table.numel() > 0
    assert all(p.requires_grad for name, p in tiny.named_parameters() if "word_embeddings" not in name)


@pytest.mark.parametrize("k, expected", [(0, [True, True]), (1, [False, True]), (2, [False, False])])
def test_freeze_bottom_layers(tiny, k, expected):
    models.apply_method(tiny, "freeze", freeze_layers=k)
    assert _layer_trainable(tiny) == expected
    assert not any(p.requires_grad for p in models.embeddings_of(tiny).parameters())
    assert all(p.requires_grad for p in tiny.classifier.parameters())


def test_freeze_all_trains_the_head_only(tiny):
    models.apply_method(tiny, "freeze", freeze_layers=-1)
    trainable, _ = models.count_parameters(tiny)
    head = sum(p.numel() for p in tiny.classifier.parameters())
    assert trainable == head == 32 * 3 + 3


def test_lora_parameter_count(tiny):
    r = 4
    assert models.lora_targets(tiny) == ["query", "value"]
    model = models.apply_method(tiny, "lora", lora_r=r, lora_alpha=8)
    trainable, total = models.count_parameters(model)
    # query and value of 2 layers, each A (r x 32) + B (32 x r), plus the classifier head kept trainable
    lora = 2 * 2 * (r * 32 + 32 * r)
    head = 32 * 3 + 3
    assert trainable == lora + head
    assert total > trainable


def test_describe_choice_matches_a_real_model(tiny_model_dir, tiny):
    described = models.describe_choice(str(tiny_model_dir), "freeze", freeze_layers=1, num_labels=3)
    models.apply_method(tiny, "freeze", freeze_layers=1)
    assert (described["trainable"], described["total"]) == models.count_parameters(tiny)
    assert described["layers"] == 2


def test_merged_lora_saves_as_plain_model(tiny, tmp_path):
    model = models.merge_for_saving(models.apply_method(tiny, "lora", lora_r=2))
    model.save_pretrained(tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in names and "adapter_config.json" not in names


def test_pickle_only_folder_is_refused(tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(models.ModelError, match="safetensors"):
        models.load_model(str(tmp_path), ["a", "b"])


def test_unknown_model_gives_a_sentence():
    with pytest.raises(models.ModelError, match="bundled"):
        models.load_tokenizer("no-such-org/no-such-model-xyz")


def test_catalog_default_is_bundled_and_loads_offline():
    entry = models.catalog_entry(models.DEFAULT_MODEL)
    assert entry.source == "bundled"
    tok = models.load_tokenizer(models.DEFAULT_MODEL)
    assert tok("hello world")["input_ids"][0] == tok.cls_token_id
