"""Shared fixtures: a tiny BERT saved as a model folder, small labelled tables, the shared data sets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def shared_dataset(*parts: str) -> Path:
    """A file of ../shared/datasets, or skip the test with the reason."""
    path = SHARED_DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data set {path} is not present on this machine")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with the bundled model's tokenizer, random weights, saved as safetensors."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel
    from studio.models import bundled_model_path
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


SENTIMENT = [
    ("I love this product, it works great", "positive"), ("Absolutely wonderful service and fast delivery", "positive"),
    ("Best purchase I made this year", "positive"), ("The staff were friendly and helpful", "positive"),
    ("Great quality, would buy again", "positive"), ("Fantastic, exceeded my expectations", "positive"),
    ("Very happy with how it turned out", "positive"), ("Lovely design and easy to use", "positive"),
    ("Terrible, it broke after one day", "negative"), ("Awful support, nobody answered my emails", "negative"),
    ("The worst experience I have had", "negative"), ("It arrived damaged and late", "negative"),
    ("Poor quality, do not buy", "negative"), ("I want my money back, this is useless", "negative"),
    ("Disappointing and overpriced", "negative"), ("Rude staff and a dirty shop", "negative"),
]


@pytest.fixture
def sentiment_csv(tmp_path) -> Path:
    """A small two-class CSV: 16 distinct rows repeated with a suffix to 64 rows."""
    import csv
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["review", "sentiment"])
        for i in range(4):
            for text, label in SENTIMENT:
                w.writerow([f"{text} ({i})" if i else text, label])
    return path


@pytest.fixture
def one_text_csv(tmp_path) -> Path:
    """100 rows of one and the same text, 80 labelled "ham" and 20 "spam": a model can only answer one label for all."""
    import csv
    path = tmp_path / "same-text.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["message", "label"])
        w.writerows(("Call me back when you can", "ham" if i % 5 else "spam") for i in range(100))
    return path


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A finished run folder (runs/<id>/ with model/, metrics.json, predictions.jsonl) from one epoch of the tiny BERT."""
    import csv
    from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from studio.jobs import execute
    from studio.runs import Run
    root = tmp_path_factory.mktemp("shared-run")
    data_path = root / "reviews.csv"
    with open(data_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["review", "sentiment"])
        w.writerows((f"{text} ({i})" if i else text, label) for i in range(4) for text, label in SENTIMENT)
    config = RunConfig(data=DataConfig(train_file=str(data_path)), model=ModelConfig(name=str(tiny_model_dir), method="full"),
                       train=TrainConfig(epochs=1, batch_size=8, learning_rate=1e-3, patience=0, max_length=32),
                       name="Tiny reviews")
    run = Run.create(root / "runs", config)
    status = execute(run)
    assert status["state"] == "finished", status
    return run.path
