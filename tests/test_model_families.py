"""The catalog's other families (DistilBERT, RoBERTa, XLM-R) as tiny models built from configs: freezing,
LoRA's targets, and the frozen layers computed once giving what computing them every step gives."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import build_tiny_model
from studio import inference, models, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig

FAMILIES = {  # family: (the attention projections LoRA adapts, the base model's attribute in the classifier)
    "distilbert": (["q_lin", "v_lin"], "distilbert"),
    "roberta": (["query", "value"], "roberta"),
    "xlm-roberta": (["query", "value"], "roberta"),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family_dir(request, tmp_path_factory):
    return request.param, build_tiny_model(tmp_path_factory.mktemp(request.param), request.param)


def _trainable(module) -> bool:
    return all(p.requires_grad for p in module.parameters())


@pytest.mark.parametrize("k, expected", [(0, [True, True]), (1, [False, True]), (2, [False, False])])
def test_freezing_the_bottom_layers(family_dir, k, expected):
    _, folder = family_dir
    model = models.apply_method(models.load_model(str(folder), ["a", "b", "c"]), "freeze", freeze_layers=k)
    assert len(models.layers_of(model)) == 2
    assert [_trainable(layer) for layer in models.layers_of(model)] == expected
    assert not any(p.requires_grad for p in models.embeddings_of(model).parameters())
    base = set(id(p) for p in models.base_of(model).parameters())
    head = [p for p in model.parameters() if id(p) not in base]
    assert head and all(p.requires_grad for p in head)   # the classification head always trains


def test_head_only_trains_nothing_of_the_base_model(family_dir):
    _, folder = family_dir
    model = models.apply_method(models.load_model(str(folder), ["a", "b"]), "freeze", freeze_layers=-1)
    assert not any(p.requires_grad for p in models.base_of(model).parameters())
    trainable, _ = models.count_parameters(model)
    assert trainable == sum(p.numel() for p in model.parameters() if p.requires_grad) > 0


def test_lora_adapts_the_familys_query_and_value_projections(family_dir):
    family, folder = family_dir
    targets, _ = FAMILIES[family]
    model = models.load_model(str(folder), ["a", "b"])
    assert models.lora_targets(model) == targets
    adapted = models.apply_method(model, "lora", lora_r=4, lora_alpha=8)
    names = [n for n, p in adapted.named_parameters() if p.requires_grad]
    for layer in range(2):
        for target in targets:
            assert any(f"layer.{layer}." in n and f".{target}.lora_A" in n for n in names), (layer, target)
    lora = [n for n in names if "lora_" in n]
    assert len(lora) == 2 * 2 * len(targets)                  # A and B of each target in each layer
    assert all("lora_" in n or "classifier" in n or "pre_classifier" in n for n in names), names


def _config(csv, folder, cache: bool) -> RunConfig:
    return RunConfig(data=DataConfig(train_file=str(csv)), model=ModelConfig(name=str(folder), method="freeze",
                                                                             freeze_layers=1),
                     train=TrainConfig(epochs=1, batch_size=8, learning_rate=1e-3, patience=0, max_length=32,
                                       cache_frozen=cache, warm_start=False))


def test_the_frozen_cache_trains_like_recomputing_and_leaves_the_frozen_layer_alone(family_dir, sentiment_csv,
                                                                                     tmp_path):
    family, folder = family_dir
    runs = {}
    for cache in (True, False):
        events = []
        training.train(_config(sentiment_csv, folder, cache), tmp_path / str(cache), events.append)
        runs[cache] = events
    assert runs[True][0]["frozen_cached"] is True and runs[False][0]["frozen_cached"] is False
    losses = {cache: [e["loss"] for e in events if e["type"] == "step"] for cache, events in runs.items()}
    assert len(losses[True]) > 1 and losses[True] == pytest.approx(losses[False], rel=1e-3)

    before, after = load_file(folder / "model.safetensors"), load_file(tmp_path / "True" / "model" / "model.safetensors")
    _, prefix = FAMILIES[family]
    bottom = [k for k in before if ".layer.0." in k]
    top = [k for k in before if ".layer.1." in k]
    assert bottom and top
    assert all(torch.equal(before[k], after[f"{prefix}.{k}"]) for k in bottom)       # frozen: as built
    assert not all(torch.equal(before[k], after[f"{prefix}.{k}"]) for k in top)      # trained: moved

    # The saved model loads outside training and answers as training's own test predictions did.
    rows = [json.loads(line) for line in (tmp_path / "True" / "predictions.jsonl").read_text().splitlines()]
    answers = inference.Classifier(tmp_path / "True" / "model").predict([r["text"] for r in rows])
    assert [a.label for a in answers] == [r["predicted"] for r in rows]
    assert [a.confidence for a in answers] == pytest.approx([r["confidence"] for r in rows], abs=2e-4)
