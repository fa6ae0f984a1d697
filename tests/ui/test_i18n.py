"""Every string a user can see goes through the translation table, and the Chinese table is complete."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio import knobs, models
from studio.config import METHODS
from studio.presets import PRESETS
from studio.runs import ACTIVE_STATES, FINAL_STATES
from studio.ui import i18n, train_tab

UI = Path(i18n.__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# Keys whose Chinese may read like the English: names, abbreviations, symbols.
SAME_IN_BOTH = {"method_lora", "col_f1", "status_unknown", "device_gpu", "model_label"}
STATES = (*ACTIVE_STATES, *FINAL_STATES, "stopped", "unknown")
# Keys built at run time from a prefix and a value: every value the code can produce.
DYNAMIC = {
    "state_": STATES, "method_": (*METHODS, "auto_short", "head_only", "frozen"),
    "preset_": (*PRESETS, *(f"{p}_note" for p in PRESETS)),
    "model_note_": [e.key for e in models.CATALOG],
    "avail_": ("bundled", "folder", "cached", "hub", "offline", "missing_folder", "not_a_model"),
    "model_cannot_": ("offline", "missing_folder", "not_a_model"),
    "model_ready_": models.USABLE,
    "status_": ("queued", "cancelled", "interrupted", "stopped", "none"),
    "progress_": ("queued", "failed", "cancelled", "interrupted", "stopped", "finished", "running"),
    "log_": ("queued", "finished", "cancelled", "interrupted", "stopped"),
    "severity_": ("error", "warning", "info"),
}


def used_keys() -> set[str]:
    """Every literal key the UI modules pass to t() or I18N(), and every key built from a prefix."""
    keys = set()
    for path in UI.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\b(?:t|I18N)\(\s*\"([A-Za-z0-9_\-.]+)\"", source))
        keys |= set(re.findall(r"\bt\(\s*\"([A-Za-z0-9_]+)\" if", source))
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + v for v in values}
    return keys


def test_every_key_the_page_uses_is_in_the_table():
    missing = sorted(k for k in used_keys() if k not in i18n.STRINGS and not k.endswith("_"))
    assert not missing, f"keys used but not translated: {missing}"


@pytest.mark.parametrize("key", sorted(i18n.STRINGS))
def test_every_string_has_its_chinese(key):
    english, chinese = i18n.STRINGS[key]
    assert english.strip() or key == "status_unknown"
    if key in SAME_IN_BOTH or not english.strip():
        return
    assert chinese != english, f"{key}: the Chinese is the English"
    assert CJK.search(chinese), f"{key}: no Chinese in {chinese!r}"
    # The same placeholders in both: a value the English shows is shown in Chinese too.
    assert set(re.findall(r"{(\w+)", english)) == set(re.findall(r"{(\w+)", chinese)), key


def test_the_hints_of_the_training_knobs_are_the_command_lines_help():
    shown = {"learning_rate_info": "learning_rate", "epochs_info": "epochs", "batch_size_info": "batch_size",
             "max_length_info": "max_length", "warmup_info": "warmup_ratio", "weight_decay_info": "weight_decay",
             "patience_info": "patience", "evals_per_epoch_info": "evals_per_epoch",
             "class_weights_info": "class_weights", "seed_info": "seed", "lora_rank_info": "lora_r",
             "freeze_depth_info": "freeze_layers", "data_encoding_info": "encoding",
             "data_split_column_info": "split_column"}
    for key, knob in shown.items():
        assert i18n.t(key, "en") == knobs.HELP[knob]
    from studio import __main__ as cli
    help_text = " ".join(cli._parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    for knob in ("learning_rate", "epochs", "batch_size", "patience", "max_rows"):
        assert " ".join(knobs.HELP[knob].split()) in help_text


ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
ALLOWED = {"LoRA", "MiniLM", "CPU", "GPU", "Evaluate"}  # names; run ids and numbers are stripped first


def english_words(text: str) -> set[str]:
    text = re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "", text)  # run ids
    text = re.sub(r"<[^>]*>", "", text)  # the markup of an HTML component, not words a user reads
    return {w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED}


def test_a_run_followed_in_chinese_shows_no_english(tmp_path):
    from studio.config import DataConfig, RunConfig
    from studio.runs import Run
    from studio.ui.context import Studio
    studio = Studio.create(tmp_path / "runs", default_model=models.DEFAULT_MODEL)
    run = Run.create(studio.runs_dir, RunConfig(data=DataConfig(train_file="x.csv")))
    run.set_status("running")
    for event in ({"type": "started", "device": "CPU (2 threads)", "train_rows": 100, "validation_rows": 20,
                   "test_rows": 20, "total_steps": 40, "epochs": 4, "batch_size": 10, "labels": ["a"],
                   "trainable_parameters": 10, "total_parameters": 100},
                  {"type": "note", "message": "Auto: full fine-tuning, starting from a head fitted by logistic "
                                              "regression on the model's sentence vectors."},
                  {"type": "step", "step": 1, "epoch": 0.1, "loss": 1.0, "samples_per_s": 50, "progress": 0.025,
                   "eta_s": 30},
                  {"type": "eval", "step": 10, "epoch": 1.0, "loss": 0.5, "accuracy": 0.8, "macro_f1": 0.7,
                   "best": True},
                  {"type": "note", "message": "Stopped early at epoch 1.0: validation did not improve for 2 "
                                              "evaluations."}):
        run.append_event(event)
    changes = train_tab.poll(studio, run.id, None, "zh-CN")
    for part in ("status", "progress", "device", "log"):
        assert not english_words(changes[part]), (part, changes[part])


def test_an_unforeseen_error_reaches_the_page_as_a_sentence_in_its_language():
    import gradio as gr
    from studio.ui.context import toast_errors

    @toast_errors
    def handler(value, lang):
        raise KeyError("internal detail")
    with pytest.raises(gr.Error) as chinese:
        handler(1, "zh-CN")
    assert "服务器出了点问题" in chinese.value.message and "internal detail" not in chinese.value.message
    with pytest.raises(gr.Error) as english:
        handler(1, "en")
    assert "Something went wrong" in english.value.message


def test_notes_on_how_a_file_was_read_are_translated():
    finding = {"code": "read_note", "severity": "info",
               "message": "Removed stray byte-order marks (invisible \\ufeff characters) from the values."}
    assert "字节顺序标记" in i18n.finding_text(finding, "zh-CN")
    assert i18n.finding_text(finding, "en") == finding["message"]
