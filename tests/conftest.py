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


# --- tiny models of each catalog family, and a run whose two classes separate ------------------
FAMILIES = ("bert", "distilbert", "roberta", "xlm-roberta")


def write_reviews_csv(path: Path) -> Path:
    """24 short reviews, two labels, columns `review` and `sentiment`: what the page tests load as a user's file."""
    import csv
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        writer.writerows((f"{text} {i}", label) for i in range(12) for text, label in
                         (("great product, works well", "positive"), ("broke after a day, awful", "negative")))
    return path


def build_tiny_model(folder: Path, family: str = "bert", **overrides) -> Path:
    """A 2-layer, 32-wide model of a catalog family, random weights, saved as safetensors with the bundled
    model's tokenizer (any family reads token ids; the tokenizer's kind does not matter here)."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from studio.models import bundled_model_path
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    if family == "distilbert":
        settings = dict(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=128)
    else:
        settings = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=130)  # RoBERTa's positions start after the padding index
    if family in ("roberta", "xlm-roberta"):
        settings.update(pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
                        eos_token_id=tokenizer.sep_token_id, type_vocab_size=1)
    config = AutoConfig.for_model(family, vocab_size=tokenizer.vocab_size, **{**settings, **overrides})
    AutoModel.from_config(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


FRUIT = "apple banana cherry grape lemon mango peach plum".split()
TOOLS = "engine wheel brake motor piston gear clutch pump".split()


def write_separable_csv(path: Path, rows_per_label: int = 80, seed: int = 0) -> Path:
    """Two labels told apart by their words alone (fruit / tools), 3-7 words a row, a few rows far longer
    than 24 tokens whose first words name the label and whose tail names the other."""
    import csv
    import random
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i in range(rows_per_label):
            for words, other, label in ((FRUIT, TOOLS, "fruit"), (TOOLS, FRUIT, "tools")):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))
                if i % 10 == 0:   # past the max length the test runs train with: the tail is cut off
                    text = " ".join(rng.choice(words) for _ in range(30)) + " " + " ".join(rng.choice(other) for _ in range(60))
                w.writerow([text, label])
    return path


@pytest.fixture(scope="session")
def separable_model_dir(tmp_path_factory) -> Path:
    """The tiny BERT with weights large enough (initializer range 0.2) that a few epochs separate two classes."""
    return build_tiny_model(tmp_path_factory.mktemp("separable-bert"), "bert", initializer_range=0.2)


SEPARABLE_MAX_LENGTH = 24


def separable_config(csv_path, model_dir, **train):
    """Full fine-tuning for 4 epochs without the fitted head: the weights that ship are trained ones.
    On the CPU, where the same seed gives the same numbers, so the tests may compare them exactly."""
    from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    settings = dict(epochs=4, batch_size=16, learning_rate=3e-3, patience=0, max_length=SEPARABLE_MAX_LENGTH,
                    warm_start=False, device="cpu")
    settings.update(train)
    return RunConfig(data=DataConfig(train_file=str(csv_path)), model=ModelConfig(name=str(model_dir), method="full"),
                     train=TrainConfig(**settings))


@pytest.fixture(scope="session")
def separable_run(tmp_path_factory, separable_model_dir) -> dict:
    """A finished training.train() on the separable data: its folder, events, report and the learning rate the
    optimizer held at each of its steps (read by a torch optimizer hook)."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook
    from studio import training
    root = tmp_path_factory.mktemp("separable-run")
    csv_path = write_separable_csv(root / "words.csv")
    config = separable_config(csv_path, separable_model_dir)
    events, optimizer_lrs = [], []
    hook = register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: optimizer_lrs.append(float(optimizer.param_groups[0]["lr"])))
    try:
        report = training.train(config, root / "run", events.append)
    finally:
        hook.remove()
    return {"dir": root / "run", "csv": csv_path, "config": config, "events": events, "report": report,
            "optimizer_lrs": optimizer_lrs}


# --- the browser tests (tests/e2e): Debian's Chromium driven by Playwright, whose own browser download fails here
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The browser's path; the test is skipped with a reason when the browser or Playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; install it with `bash scripts/install_browser.sh`")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        yield chromium
        chromium.close()
