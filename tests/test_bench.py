"""The benchmark harness's pure helpers (bench/harness.py): sampling, scores, ratios, targets, tables. No timing."""
from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


h = _load("harness")


def test_stratified_indices_keeps_proportions_and_every_class():
    labels = ["a"] * 900 + ["b"] * 90 + ["c"] * 10
    idx = h.stratified_indices(labels, 100, seed=1)
    assert len(idx) == 100 and len(set(idx)) == 100 and idx == sorted(idx)
    counts = Counter(labels[i] for i in idx)
    assert counts == {"a": 90, "b": 9, "c": 1}
    small = ["x"] * 50 + ["y"] * 2 + ["z"]
    few = h.stratified_indices(small, 5, seed=0)
    assert len(few) == 5 and set(Counter(small[i] for i in few)) == {"x", "y", "z"}


def test_stratified_indices_is_deterministic_and_bounded():
    labels = [str(i % 7) for i in range(1000)]
    assert h.stratified_indices(labels, 123, seed=5) == h.stratified_indices(labels, 123, seed=5)
    assert h.stratified_indices(labels, 123, seed=5) != h.stratified_indices(labels, 123, seed=6)
    assert h.stratified_indices(labels, 5000) == list(range(1000))
    assert h.stratified_indices(labels, 0) == []
    some = h.stratified_indices(labels, 10, candidates=range(500, 1000))
    assert all(i >= 500 for i in some) and len(some) == 10


def test_train_val_indices_are_disjoint_and_share_no_text():
    texts = [f"t{i % 150}" for i in range(600)]  # every text four times
    labels = [str(i % 3) for i in range(600)]
    train, val = h.train_val_indices(texts, labels, 120, 30, seed=42)
    assert len(train) == 120 and 0 < len(val) <= 30
    assert not set(train) & set(val)
    assert not {texts[i] for i in train} & {texts[i] for i in val}
    everything, held = h.train_val_indices([f"u{i}" for i in range(100)], ["a", "b"] * 50, None, 10)
    assert len(held) == 10 and len(everything) == 90 and not set(everything) & set(held)


def test_default_val_rows():
    assert h.default_val_rows(4000, 67349) == (4000, 400)
    assert h.default_val_rows(None, 10003) == (None, 1000)
    assert h.default_val_rows(20000, 10003) == (None, 1000)


def test_sst2_style_tsv_round_trips_with_literal_quotes(tmp_path):
    src = tmp_path / "train.tsv"
    src.write_bytes(b'sentence\tlabel\nit \'s a " quoted " mess \t1\nplain words \t0\nmore "x \t1\n')
    rows = h.read_rows(src)
    assert rows.tsv and rows.header == ["sentence", "label"] and rows.column("label") == ["1", "0", "1"]
    out = h.write_rows(tmp_path / "sample.tsv", rows, [0, 2])
    assert out.read_bytes() == b'sentence\tlabel\nit \'s a " quoted " mess \t1\nmore "x \t1\n'


def test_csv_with_quoted_newlines_round_trips(tmp_path):
    src = tmp_path / "train.csv"
    src.write_bytes(b'text,category\r\n"two\nlines, and a comma",a\r\nplain,b\r\n')
    rows = h.read_rows(src)
    assert not rows.tsv and rows.column("text") == ["two\nlines, and a comma", "plain"]
    back = h.read_rows(h.write_rows(tmp_path / "copy.csv", rows))
    assert back.rows == rows.rows


def test_scores_match_the_seed_recipe_definition():
    s = h.scores([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    assert s["accuracy"] == pytest.approx(3 / 5)
    # F1: class 0: tp1 fp1 fn1 -> 0.5; class 1: tp2 fp1 fn0 -> 0.8; class 2: no hit -> 0
    assert s["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert h.scores(["a", "b"], ["a", "b"], classes=["a", "b", "c"])["macro_f1"] == pytest.approx(2 / 3)


def test_per_dataset_caps():
    names = ["sst2", "banking77"]
    assert h.per_dataset(None, names) == {"sst2": None, "banking77": None}
    assert h.per_dataset("300", names) == {"sst2": 300, "banking77": 300}
    assert h.per_dataset("banking77=200,sst2=0", names) == {"sst2": None, "banking77": 200}
    with pytest.raises(ValueError):
        h.per_dataset("imdb=3", names)


def test_percentile_matches_linear_interpolation():
    assert h.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert h.percentile([10], 95) == 10
    assert h.percentile(list(range(101)), 95) == pytest.approx(95)
    assert math.isnan(h.percentile([], 50))


def test_seed_recipe_step_arithmetic():
    assert h.seed_warmup_steps(4000) == 250 and h.seed_warmup_steps(10003) == 500
    assert h.seed_total_steps(4000) == 750 and h.seed_total_steps(9003) == 3 * 563


def test_ratio_and_judge():
    assert h.ratio(10, 2) == 5 and h.ratio(None, 2) is None and h.ratio(1, 0) is None and h.ratio(float("nan"), 1) is None
    fast = h.Target(">= 5x", "ratio", ">=", 5)
    assert h.judge(fast, 65, 13) is True and h.judge(fast, 64, 13) is False and h.judge(fast, None, 13) is None
    close = h.Target(">= ref - 1 pt", "delta", ">=", -0.01, needs_complete_reference=True)
    assert h.judge(close, 0.875, 0.88) is True and h.judge(close, 0.86, 0.88) is False
    assert h.judge(close, 0.95, 0.88, reference_complete=False) is None
    better = h.Target("> ref", "delta", ">", 0)
    assert h.judge(better, 0.88, 0.88) is False
    absolute = h.Target("<= 15 s", "value", "<=", 15)
    assert h.judge(absolute, 14.9, None) is True and h.judge(absolute, 15.1, 3) is False
    assert h.judge(None, 1, 1) is None
    assert [h.met_text(x) for x in (True, False, None)] == ["yes", "NO", "n/a"]


def test_targets_per_device_and_configuration():
    cpu = h.comparison_targets("same_recipe", "cpu", "sst2")
    assert cpu["train_samples_per_s"].threshold == 5 and cpu["accuracy"].needs_complete_reference
    preset = h.comparison_targets("default_preset", "cpu", "banking77")
    assert preset["train_wall_s"].threshold == pytest.approx(1 / 3)
    gpu = h.comparison_targets("default_preset", "cuda", "banking77")
    assert gpu["accuracy"].threshold == 0.90 and gpu["train_wall_s"].threshold == 15
    assert h.comparison_targets("default_preset", "cuda", "sst2")["train_wall_s"].threshold == 12
    assert h.comparison_targets("same_recipe", "cuda", "sst2") == {}


def test_comparison_rows_and_tables():
    ref = {"train_samples_per_s": 13.0, "train_wall_s": 900.0, "accuracy": 0.80, "macro_f1": 0.79, "peak_rss_mb": 1500}
    studio = {"train_samples_per_s": 80.0, "train_wall_s": 160.0, "accuracy": 0.795, "macro_f1": 0.79, "peak_rss_mb": 1200}
    rows = h.comparison_rows(ref, studio, h.comparison_targets("same_recipe", "cpu", "sst2"), reference_complete=True)
    by = {r["key"]: r for r in rows}
    assert by["train_samples_per_s"]["ratio"] == "6.15x" and by["train_samples_per_s"]["met"] == "yes"
    assert by["accuracy"]["met"] == "yes" and by["first_loss_s"]["reference"] == "n/a"
    assert by["peak_rss_mb"]["target"] == "-" and by["peak_rss_mb"]["met"] == "-"
    capped = h.comparison_rows(ref, studio, h.comparison_targets("same_recipe", "cpu", "sst2"), reference_complete=False)
    assert {r["key"]: r["met"] for r in capped}["accuracy"] == "n/a (reference capped)"

    text = h.text_table(h.COMPARISON_HEADER, h.comparison_table_rows(rows), "sst2")
    lines = text.splitlines()
    assert lines[0] == "sst2" and set(lines[1]) == {"="} and "reference" in lines[2]
    assert len({len(line) for line in lines[2:4]}) == 1  # header and rule line up
    md = h.markdown_table(["a", "b"], [["x|y", "1"]])
    assert md.splitlines() == ["| a | b |", "|---|---:|", "| x\\|y | 1 |"]


def test_shared_note_flags_load_beyond_the_own_threads():
    assert h.shared_note([1.0, 1.3, 2.5, 1.9, 1.8, 2.1], cores=2) is None
    note = h.shared_note([1.9, 1.9, 1.9, 3.5, 3.8, 3.2], cores=2)
    assert note and "3.5 after" in note
    assert h.shared_note(None, 2) is None and h.shared_note([], 2) is None


def test_extra_rows_and_machine_helpers():
    row = h.extra_row("p50 (ms)", 12.345, "{:.1f}", h.EXTRA_TARGETS["cpu"]["playground_p50_ms"])
    assert row == ["p50 (ms)", "12.3", "< 30 ms", "yes"]
    assert h.extra_row("x", None, "{:.1f}", None) == ["x", "n/a", "-", "-"]
    assert h.cpu_model("processor\t: 0\nmodel name\t: Some CPU @ 2GHz\n") == "Some CPU @ 2GHz"
    assert h.usable_cores() == len(os.sched_getaffinity(0))


def test_run_without_cuda_says_so_and_exits_2():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--device", "cuda"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "no CUDA device" in done.stderr
