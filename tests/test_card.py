"""The model card: Hugging Face front matter, plain words, no path of the computer it was trained on."""
import json
import re
from pathlib import Path

from studio import card, models
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from studio.runs import Run

ABSOLUTE_PATH = re.compile(r"(?:^|[\s`'\"(=:])(?:/|~/|[A-Za-z]:\\)[^\s/\\]+[/\\]")


def _report(**extra):
    return {"accuracy": 0.8125, "macro_f1": 0.8, "weighted_f1": 0.81, "examples": 16, "labels": ["a", "b"],
            "baseline": {"label": "a", "accuracy": 0.5, "source": "train"}, "summary": "It is right 13 times in 16.",
            "steps": 40, "train_seconds": 3.2, "best_step": 40, **extra}


def _card(model_name, tmp_path, pooling=""):
    config = RunConfig(data=DataConfig(train_file=str(tmp_path / "tickets.csv")),
                       model=ModelConfig(name=model_name, method="full"), train=TrainConfig(), name="Tickets")
    return card.model_card(config, _report(), ["a", "b"], "60 rows for training, 20 for validation, 16 for testing.",
                           {"a": (30, 10, 8), "b": (30, 10, 8)}, pooling)


def test_the_trained_run_writes_a_hub_card_without_local_paths(tiny_run_dir, tiny_model_dir):
    text = (tiny_run_dir / "model" / "README.md").read_text(encoding="utf-8")
    meta, body = card.split(text)
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "text-classification"
    assert "base_model" not in meta and "license" not in meta   # the tiny model is a local folder with no hub id
    metrics = json.loads((tiny_run_dir / "metrics.json").read_text())
    result = meta["model-index"][0]["results"][0]
    assert result["task"]["type"] == "text-classification" and result["dataset"]["split"] == "test"
    scores = {m["name"]: m["value"] for m in result["metrics"]}
    assert scores["Test accuracy"] == round(metrics["accuracy"], 4)
    assert scores["Test macro F1"] == round(metrics["macro_f1"], 4)
    # no path of this computer: neither the base model's folder, nor the run's, nor the data file's
    assert str(tiny_model_dir) not in text and str(tiny_run_dir.parent) not in text and str(Path.home()) not in text
    assert not ABSOLUTE_PATH.search(text), ABSOLUTE_PATH.search(text)
    assert f"a local model folder named {tiny_model_dir.name}" in body and "`reviews.csv`" in body
    for section in ("## Intended use", "## Limitations", "## Training", "## Labels", "## Results", "## How to use"):
        assert section in body
    assert 'pipeline("text-classification", model="path/to/this/folder", truncation=True)' in body
    started = next(e for e in Run(tiny_run_dir).events()[0] if e["type"] == "started")
    counts = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|", body, re.M))
    assert set(counts) == {"negative", "positive"} and sum(map(int, counts.values())) == started["train_rows"]
    assert f"learning rate {1e-3:.3g}, batch size 8," in body and "texts cut at 32 tokens" in body


def test_a_catalog_model_is_named_by_its_hub_id_and_licence(tmp_path):
    meta, body = card.split(_card("all-MiniLM-L6-v2", tmp_path))
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2" and meta["license"] == "apache-2.0"
    assert "fine-tuned from sentence-transformers/all-MiniLM-L6-v2" in body
    assert str(tmp_path) not in body and "`tickets.csv`" in body
    meta, _ = card.split(_card("roberta-base", tmp_path))
    assert meta["base_model"] == "FacebookAI/roberta-base" and meta["license"] == "mit"
    meta, _ = card.split(_card("someone/their-model", tmp_path))
    assert meta["base_model"] == "someone/their-model" and "license" not in meta


def test_the_bundled_model_given_as_its_folder_is_still_named_by_its_hub_id(tmp_path):
    folder = models.bundled_model_path()
    text = _card(folder, tmp_path)
    assert card.split(text)[0]["base_model"] == card.BUNDLED_HUB_ID
    assert folder not in text and not ABSOLUTE_PATH.search(text)


def test_a_head_fitted_without_gradient_steps_says_so(tmp_path):
    config = RunConfig(data=DataConfig(train_file="t.csv"), model=ModelConfig(method="freeze", freeze_layers=-1))
    body = card.body(card.model_card(config, _report(steps=0, best_step=0), ["a", "b"], "", None))
    assert "the classification head only" in body and "No gradient steps" in body and "epochs" not in body


def test_the_card_keeps_the_mean_pooling_line(tmp_path):
    class Config:
        studio_pooling = "mean"
    text = _card("all-MiniLM-L6-v2", tmp_path, card.pooling_line(Config()))
    assert "- Pooling: the last layer averages the token vectors (mean pooling" in text
    assert "mean pooling" not in _card("all-MiniLM-L6-v2", tmp_path)


def test_a_run_with_an_older_card_gets_the_card_made_from_its_files(tiny_run_dir, tiny_model_dir, tmp_path):
    import shutil
    run_dir = tmp_path / "runs" / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, run_dir)
    (run_dir / "model" / "README.md").write_text(f"# Text classifier\n\n- Base model: `{tiny_model_dir}`\n")
    text = card.for_run(run_dir)
    meta, body = card.split(text)
    assert meta["pipeline_tag"] == "text-classification" and str(tiny_model_dir) not in text
    assert "| `negative` | - | - |" in body   # only the test rows' counts are known


def test_a_model_is_named_without_the_path_of_this_computer(tmp_path):
    from studio.card import model_label
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert model_label(str(folder)) == "my-model" and model_label(str(folder) + "/") == "my-model"
    assert model_label("distilbert-base-uncased") == "distilbert-base-uncased"   # a catalog key
    assert model_label("someone/some-model") == "someone/some-model"              # a hub id
    assert model_label("~/models/mine") == "mine" and model_label("./here/there") == "there"
