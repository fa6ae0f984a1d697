"""The model card: model/README.md of a trained run, in the Hugging Face convention.

YAML front matter the model hub reads (library, pipeline, base model, licence, the test metrics as a
model-index), then the card in plain words: what the model is for and where it falls short, how it was
trained, its labels with their counts, its test results and how to load it. The same text serves the
model folder and the public demo (which shows it without the front matter), and it names no path of
the computer it was trained on: a base model from a local folder is named by the folder's own name.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from . import models
from .config import RunConfig

FILE_NAME = "README.md"
BUNDLED_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"   # what the bundled package holds
# The licences the base models of the catalog declare on their hub pages (hub identifiers, lower case).
LICENSES = {
    BUNDLED_HUB_ID: "apache-2.0",
    "distilbert/distilbert-base-uncased": "apache-2.0",
    "google-bert/bert-base-uncased": "apache-2.0",
    "google-bert/bert-base-multilingual-cased": "apache-2.0",
    "FacebookAI/roberta-base": "mit",
    "FacebookAI/xlm-roberta-base": "mit",
}
DEFAULT_TITLE = "Text classifier fine-tuned with the studio"
USAGE = """```python
from transformers import pipeline
classify = pipeline("text-classification", model="path/to/this/folder", truncation=True)
print(classify("your text here", top_k=None))
```"""


# --- the base model --------------------------------------------------------------------------
def looks_local(name: str) -> bool:
    """Is this model name a folder of this computer rather than a catalog key or a hub id?"""
    return (name.startswith(("/", "~", ".")) or "\\" in name or os.path.isabs(name)
            or Path(name).expanduser().exists())


def _is_bundled_folder(name: str) -> bool:
    try:
        return Path(name).expanduser().resolve() == Path(models.bundled_model_path()).resolve()
    except (ImportError, OSError):
        return False


def model_label(name: str) -> str:
    """How a model is named to people (tables, the card, the demo): a catalog key or hub id as it is, a local
    folder by its last part only, so no path of this computer is shown."""
    name = (name or models.DEFAULT_MODEL).strip()
    if models.catalog_entry(name) is None and looks_local(name):
        return Path(os.path.expanduser(name)).resolve().name or "model"
    return name


def base_model(name: str) -> tuple[str | None, str]:
    """(the hub id, or None for a local folder; how the card names the model).

    A catalog key becomes its hub id (the bundled model: all-MiniLM-L6-v2's); a local folder is named by its
    last part only, so the card shows no path of this computer."""
    name = (name or models.DEFAULT_MODEL).strip()
    entry = models.catalog_entry(name)
    if entry is not None:
        hub_id = BUNDLED_HUB_ID if entry.source == "bundled" else entry.source
        return hub_id, hub_id
    if looks_local(name):
        if _is_bundled_folder(name):
            return BUNDLED_HUB_ID, BUNDLED_HUB_ID
        return None, f"a local model folder named {model_label(name)}"
    return name, name


def pooling_line(model_config) -> str:
    if getattr(model_config, "studio_pooling", None) != "mean":
        return ""
    return ("\n- Pooling: the last layer averages the token vectors (mean pooling, as the base model was trained); "
            "it is an ordinary BERT layer with fixed weights, so the folder loads as a plain BertForSequenceClassification")


# --- the card --------------------------------------------------------------------------------
def _number(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _front_matter(config: RunConfig, report: dict, hub_id: str | None, dataset: str) -> dict:
    meta: dict[str, Any] = {"library_name": "transformers", "pipeline_tag": "text-classification"}
    if hub_id:
        meta["base_model"] = hub_id
        if hub_id in LICENSES:
            meta["license"] = LICENSES[hub_id]
    meta["tags"] = ["text-classification"]
    scores = [("accuracy", "accuracy", "Test accuracy", None), ("f1", "macro_f1", "Test macro F1", "macro"),
              ("f1", "weighted_f1", "Test weighted F1", "weighted")]
    metrics = []
    for kind, key, title, average in scores:
        if report.get(key) is None:
            continue
        metric = {"type": kind, "value": _number(report[key]), "name": title}
        if average:
            metric["args"] = {"average": average}
        metrics.append(metric)
    if metrics:
        meta["model-index"] = [{"name": config.name or "text-classifier", "results": [{
            "task": {"type": "text-classification", "name": "Text Classification"},
            "dataset": {"name": f"{dataset} (held-out test rows)", "type": "custom", "split": "test"},
            "metrics": metrics}]}]
    return meta


def _method(config: RunConfig) -> str:
    m = config.model
    if m.method == "freeze":
        if m.freeze_layers < 0:
            return "the classification head only (every layer of the base model frozen)"
        frozen = f"the embeddings and the bottom {m.freeze_layers} layers" if m.freeze_layers else "the embeddings"
        return f"freeze ({frozen} frozen, the rest fine-tuned)"
    if m.method == "lora":
        return f"LoRA (rank {m.lora_r}, alpha {m.lora_alpha}, dropout {m.lora_dropout}), merged into the weights"
    return "full fine-tuning" if m.method == "full" else m.method


def _settings(config: RunConfig, report: dict) -> list[str]:
    t = config.train
    shared = f"texts cut at {t.max_length} tokens; class weights: {'on' if t.class_weights else 'off'}; seed {t.seed}"
    if report.get("steps") == 0:  # the head alone, fitted by logistic regression: no schedule to speak of
        return [f"- No gradient steps: the head was fitted by logistic regression on the base model's sentence "
                f"vectors in {report.get('train_seconds') or 0:.0f} s", f"- Preset: {t.preset}; {shared}"]
    stopping = f"after {t.patience} evaluations without improvement" if t.patience else "off"
    epochs = f"{t.epochs:g} epoch{'' if t.epochs == 1 else 's'}"
    lines = [f"- Preset: {t.preset}; {epochs} at most, learning rate {t.learning_rate:.3g}, batch size {t.batch_size}, "
             f"warm-up {t.warmup_ratio:.0%} of the steps, weight decay {t.weight_decay:g}, early stopping {stopping}",
             f"- Also: {shared}"]
    if report.get("steps") is not None:
        best = report.get("best_step")
        if best == 0:
            kept = ("the head fitted by logistic regression on the sentence vectors, which scored best on the "
                    "validation rows")
        elif best is not None:
            kept = f"the weights of step {best:,}, the best on the validation rows"
        else:
            kept = "the last weights"
        lines.append(f"- Trained {report['steps']:,} steps in {report.get('train_seconds') or 0:.0f} s; kept {kept}")
    return lines


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _label_table(labels: list[str], counts: dict[str, tuple] | None) -> list[str]:
    if not counts:
        return [", ".join(f"`{_cell(label)}`" for label in labels)]

    def shown(value) -> str:
        return "-" if value is None else f"{value:,}"
    rows = ["| label | training rows | validation rows | test rows |", "|---|---:|---:|---:|"]
    rows += [f"| `{_cell(label)}` | " + " | ".join(shown(n) for n in counts.get(label, (None, None, None))) + " |"
             for label in labels]
    return rows


def model_card(config: RunConfig, report: dict, labels: list[str], split_description: str,
               label_counts: dict[str, tuple] | None = None, pooling: str = "") -> str:
    """The card of a trained model.

    label_counts: {label: (training rows, validation rows, test rows)}, None for a count not known;
    pooling: pooling_line() of the saved model's config."""
    hub_id, base_name = base_model(config.model.name)
    dataset = Path(config.data.train_file).name if config.data.train_file else "the training table"
    meta = yaml.safe_dump(_front_matter(config, report, hub_id, dataset), sort_keys=False, allow_unicode=True)
    names = ", ".join(f"`{label}`" for label in labels)
    trained_rows = sum(n[0] or 0 for n in (label_counts or {}).values()) or None
    warning = _warning(report)
    limitations = [
        f"- It knows only these {len(labels)} labels and answers one of them for every text, even a text that fits "
        "none; a low probability for the top label is the hint.",
        f"- It learnt from {f'{trained_rows:,} examples' if trained_rows else 'the examples'} of one table. On texts "
        "unlike them (another topic, other wording, another language) expect it to be less accurate than its test "
        "score below.",
        f"- Only the first {config.train.max_length} tokens of a text are read; the rest is ignored.",
    ]
    if warning:
        limitations.append(f"- {warning}")
    limitations.append("- Check its answers before you act on them where a mistake matters, above all in decisions "
                       "about people.")
    accuracy = report.get("accuracy")
    results = (f"- Test accuracy: {accuracy:.4f}; macro F1: {report.get('macro_f1', 0):.4f}; weighted F1: "
               f"{report.get('weighted_f1', 0):.4f} (on {report.get('examples', 0):,} test examples the model "
               "never saw in training)") if accuracy is not None else "- No test results were recorded."
    baseline = report.get("baseline") or {}
    if baseline.get("label") is not None:
        results += (f"\n- Always answering the most common label, `{baseline['label']}`, would score "
                    f"{baseline.get('accuracy', 0):.4f}")
    lines = [
        "---", meta.rstrip("\n"), "---", "",
        f"# {config.name or DEFAULT_TITLE}", "",
        f"A text classifier: it reads a text and answers which of {len(labels)} labels fits it best ({names}), with "
        f"a probability for each. It was fine-tuned from {base_name} with the studio.", "",
        "## Intended use", "",
        f"Sorting texts like those it was trained on (`{dataset}`) into these labels, one text or a list at a time, "
        "for example to route or count them. It gives every label a probability, so unsure answers can go to a "
        "person.", "",
        "## Limitations", "", *limitations, "",
        "## Training", "",
        f"- Base model: {base_name}",
        f"- Method: {_method(config)}{pooling}",
        f"- Data: `{dataset}`; {split_description}".rstrip("; "),
        *_settings(config, report), "",
        "## Labels", "", *_label_table(labels, label_counts), "",
        "## Results", "", results, "",
    ]
    summary = report.get("summary") or ""
    if warning and summary.startswith(warning):  # said under Limitations already
        summary = summary[len(warning):].strip()
    if summary:
        lines += [summary, ""]
    lines += ["## How to use", "", USAGE, ""]
    return "\n".join(lines)


def _warning(report: dict) -> str:
    if not report.get("warnings"):
        return ""
    from .metrics import warning_text
    return warning_text(report)


# --- reading a card --------------------------------------------------------------------------
def split(text: str) -> tuple[dict | None, str]:
    """(the YAML front matter, or None when there is none; the card's body below it)."""
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, text
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return None, text
    return (meta if isinstance(meta, dict) else None), text[end + 5:].lstrip("\n")


def body(text: str) -> str:
    """The card without its front matter: what a page shows."""
    return split(text)[1]


def for_run(run_dir: str | Path) -> str:
    """The card of a finished run: model/README.md as training wrote it. A run trained before the card had its
    front matter gets the same card made from its files (with the test rows' counts of each label only)."""
    from .runs import Run
    run = Run(Path(run_dir))
    try:
        written = (run.model_dir / FILE_NAME).read_text(encoding="utf-8")
    except OSError:
        written = ""
    if split(written)[0] is not None:
        return written
    report = run.metrics() or {}
    started = next((e for e in run.events()[0] if e.get("type") == "started"), {})
    labels = report.get("labels") or started.get("labels") or []
    counts = {row["label"]: (None, None, row.get("support")) for row in report.get("per_class", [])} or None
    try:
        model_config = SimpleNamespace(**json.loads((run.model_dir / "config.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        model_config = None
    config = run.config()
    if report.get("method"):  # what an Auto run resolved to
        used = dataclasses.replace(config.model, method=report["method"],
                                   freeze_layers=report.get("freeze_layers", config.model.freeze_layers))
        config = dataclasses.replace(config, model=used)
    return model_card(config, report, labels, started.get("split", ""), counts, pooling_line(model_config))
