"""The benchmark harness's pure helpers (bench/harness.py): sampling, scores, ratios, targets, tables. No timing."""
from __future__ import annotations

import importlib.util
import json
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


# --- the learning-quality benchmark (bench/quality.py) -------------------------------------------
sys.path.insert(0, str(ROOT / "bench"))
import baselines  # noqa: E402
import quality_core as core  # noqa: E402

SHARED_DATA = Path(os.environ.get("STUDIO_SHARED") or ROOT.parent / "shared") / "datasets"  # as bench/run.py finds it


def needs_shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared data sets ({SHARED_DATA}) are not on this machine")


def record(dataset="trec", n=100, seed=1, method="default", f1=0.5, acc=0.6, status="ok", single=False, **more):
    return {"key": core.Cell(dataset, n, seed, method).key, "dataset": dataset, "n": n, "seed": seed,
            "method": method, "status": status, "macro_f1": f1, "accuracy": acc, "train_seconds": 10.0,
            "single_label": single, **more}


def test_grid_takes_every_seed_up_to_the_limit_and_runs_cheap_cells_first():
    cells = core.expand(["trec", "sst2"], [100, 3000], [1, 2, 3], ["textbook", "default", "tfidf_lr"], 1000)
    assert len(cells) == 2 * (3 * 3 + 1 * 3) and len({c.key for c in cells}) == len(cells)
    assert {c.seed for c in cells if c.n == 3000} == {1}
    assert len(core.expand(["trec"], [3000], [1, 2], ["default"], one_seed_above=0)) == 2
    ordered = core.order(cells)
    methods = [c.method for c in ordered]
    assert methods.index("default") > max(i for i, m in enumerate(methods) if m == "tfidf_lr")
    assert (ordered[-1].method, ordered[-1].n) == ("textbook", 3000)
    first_defaults = [c for c in ordered if c.method == "default" and c.n == 100]
    assert [c.seed for c in first_defaults][:2] == [1, 1]  # seed 1 of both data sets before the other seeds
    sweep = core.sweep_cells([1, 2, 3])
    assert {c.dataset for c in sweep} == {"sst2", "banking77"} and {c.n for c in sweep} == {1000}
    assert {"default", "full", *core.SWEEP} == {c.method for c in sweep}
    assert core.Cell("sst2", 1000, 1, "sweep: lr x0.5").slug == "sweep-lr-x0.5"


def test_rerun_skips_done_cells_and_retries_failures_only_when_asked(tmp_path):
    path = tmp_path / "cells.jsonl"
    lines = [record(method="tfidf_lr"), record(method="default", status="failed", f1=None),
             record(method="setfit", status="not installed"), record(method="default", f1=0.7)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"key": "trec/100/1/embed_lr", "stat')
    done = core.load_records(path)
    assert set(done) == {"trec/100/1/tfidf_lr", "trec/100/1/default", "trec/100/1/setfit"}
    assert done["trec/100/1/default"]["macro_f1"] == 0.7  # the later line wins
    cells = core.expand(["trec"], [100], [1], ["tfidf_lr", "embed_lr", "default", "setfit"])
    assert [c.method for c in core.pending(cells, done)] == ["embed_lr"]  # the cut-off line does not count
    done["trec/100/1/default"]["status"] = "timed out"
    assert [c.method for c in core.pending(cells, done, retry_failed=True)] == ["embed_lr", "default"]
    assert core.load_records(tmp_path / "absent.jsonl") == {}
    samples = {("trec", 100, 1): {"train_sha1": "abc"}}
    assert core.changed_samples([record(train_sha1="abc"), record(n=200, train_sha1="zzz")], samples) == []
    assert core.changed_samples([record(train_sha1="old")], samples) == ["trec N=100 seed 1"]


def test_summaries_average_over_seeds_and_count_single_label_runs_and_failures():
    records = [record(seed=1, f1=0.5, acc=0.6), record(seed=2, f1=0.6, acc=0.7, single=True),
               record(seed=3, f1=0.7, acc=0.8, chosen="full"), record(seed=4, status="failed", error="boom")]
    s = core.summarize(records)[("trec", 100, "default")]
    assert s.runs == 3 and s.f1_mean == pytest.approx(0.6) and s.f1_std == pytest.approx(0.1)
    assert s.accuracy_mean == pytest.approx(0.7) and s.single_label == 1
    assert s.statuses == {"ok": 3, "failed": 1} and s.errors == ["boom"] and s.chosen == {"full": 1}
    one = core.summarize([record(f1=0.4)])[("trec", 100, "default")]
    assert one.f1_std is None and core.cell_text(one) == "40.0 (60.0%)"
    text = core.cell_text(s)
    assert text.startswith("60.0 ± 10.0 (70.0%)") and "1/3 single-label" in text and "[1 failed]" in text
    d = s.to_dict()
    assert d["macro_f1_min"] == 0.5 and d["macro_f1_max"] == 0.7 and d["runs"] == 3


def test_verdict_margins_against_the_cheap_baselines_and_the_textbook():
    def judged(default, tfidf=0.80, embed=0.79, textbook=0.70, single=False):
        records = [record(method="tfidf_lr", f1=tfidf), record(method="embed_lr", f1=embed),
                   record(method="default", f1=default, single=single)]
        if textbook is not None:
            records.append(record(method="textbook", f1=textbook))
        return core.verdict(core.summarize(records), "trec", 100)
    ok = judged(0.7960)  # 0.4 point under tfidf_lr: inside the half-point slack
    assert ok.status == "pass" and ok.checks[0].what == ">= tfidf_lr - 0.5"
    assert ok.checks[0].margin == pytest.approx(0.001) and ok.checks[1].margin == pytest.approx(0.096)
    short = judged(0.7940)
    assert short.status == "FAIL" and short.checks[0].met is False and short.checks[0].margin == pytest.approx(-0.001)
    assert "-0.1 pts" in short.line() and "FAILS" in short.line()
    assert judged(0.85, textbook=0.86).checks[1].met is False
    assert judged(0.85, single=True).status == "FAIL"
    waiting = judged(0.85, textbook=None)
    assert waiting.status == "incomplete" and waiting.missing == ["textbook"] and waiting.checks[1].met is None
    nothing = core.verdict(core.summarize([record(method="tfidf_lr")]), "trec", 100)
    assert nothing.status == "incomplete" and "default" in nothing.missing


def test_report_table_marks_single_label_cells_and_names_methods_not_installed():
    records = [record(seed=s, f1=f, single=s == 2, chosen="head only", notes=["Auto: only the head."])
               for s, f in ((1, 0.60), (2, 0.40), (3, 0.50))]
    records += [record(seed=s, method="tfidf_lr", f1=0.55) for s in (1, 2, 3)]
    records += [record(seed=1, method="textbook", f1=0.30), record(seed=1, method="setfit", status="not installed")]
    md = core.render_markdown(records, {"command": "python bench/quality.py"})
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[0] == ("| N | default | tfidf_lr | textbook | default - best cheap | default - textbook | "
                        "default training s | Auto chose |")
    row = table[1].split(" | ")
    assert row[1] == "50.0 ± 10.0 (60.0%) **1/3 single-label**" and row[4] == "-5.0" and row[5] == "+20.0"
    assert row[7].rstrip(" |") == "head only"
    assert "Not installed in the measuring environment, so left out of the tables: setfit." in md
    assert '"Auto: only the head."' in md and "trec N=100: FAIL" in md


def test_sweep_table_reports_the_best_setting_beside_the_default():
    records = [record("sst2", 1000, s, m, f1=f) for s in (1, 2)
               for m, f in (("default", 0.80), ("full", 0.82), ("sweep: lr x2", 0.85), ("sweep: lora", 0.70))]
    header, rows, best = core.sweep_table(core.summarize(records))
    assert header == ["setting", "sst2 (N=1,000)"] and [r[0] for r in rows][:3] == ["default (Auto)",
                                                                                   core.SWEEP_LABELS["full"], "lr x2"]
    assert rows[2][1] == "85.0 ± 0.0 (60.0%)"
    assert best == ["sst2: best setting lr x2 at 85.0 macro-F1; the default 80.0 (-5.0 against the best)."]
    assert core.sweep_table(core.summarize([record()])) is None


def test_single_label_is_inferred_from_rounded_scores_of_the_textbook_recipe():
    labels = ["a"] * 6 + ["b"] * 3 + ["c"]
    # answering "a" everywhere: accuracy 6/10, F1 of a = 2*6/(6+10) = 0.75, macro = 0.75/3
    assert core.looks_single_label(0.6, round(0.25, 4), labels)
    assert core.looks_single_label(0.3, round(2 * 3 / 13 / 3, 4), labels)
    assert not core.looks_single_label(0.6, 0.31, labels) and not core.looks_single_label(0.7, 0.25, labels)
    stats = core.prediction_stats(["a", "b", "a"], ["a", "a", "a"])
    assert stats["single_label"] and stats["distinct_predicted"] == 1 and stats["accuracy"] == pytest.approx(2 / 3)
    assert not core.prediction_stats(["a", "b"], ["a", "b"])["single_label"]
    assert core.chosen_method("freeze", -1) == "head only" and core.chosen_method("full") == "full"
    assert core.chosen_method(None) is None


def test_data_set_formats_round_trip_as_their_own_files(tmp_path):
    trec = tmp_path / "trec.csv"
    trec.write_bytes(b'id\tquestion\tlabel\n0\tWhat is "Nine Inch Nails" ?\tENTY\n1\tWho ? ; no\tHUM\n')
    table = core.read_table(trec, core.DATASETS["trec"].fmt)
    assert table.column("question") == ['What is "Nine Inch Nails" ?', "Who ? ; no"]
    assert core.write_table(tmp_path / "copy.csv", table).read_bytes() == trec.read_bytes()
    spam_fmt = core.DATASETS["spam_messy"].fmt
    spam = core.Table(["v1", "v2"], [["ham", 'caf\u00e9 "quoted", \u20ac5\nnew line'], ["spam", "WIN"]], spam_fmt)
    path = core.write_table(tmp_path / "spam.csv", spam)
    assert path.read_bytes().startswith(b"v1,v2\r\nham,\"caf\xe9 \"\"quoted\"\", \x805\nnew line\"\r\n")
    assert core.read_table(path, spam_fmt).rows == spam.rows
    broken = tmp_path / "broken.txt"
    broken.write_text("text;label_name\none;two;three\n")
    with pytest.raises(ValueError, match="Line 2"):
        core.read_table(broken, core.DATASETS["emotion"].fmt)
    with pytest.raises(ValueError, match="cannot quote"):
        core.write_table(tmp_path / "bad.txt", core.Table(["text", "label_name"], [["a;b", "joy"]],
                                                          core.DATASETS["emotion"].fmt))


def test_seed_recipe_is_told_how_to_read_each_format():
    args = {name: core.seed_recipe_args(ds) for name, ds in core.DATASETS.items()}
    assert args == {"sst2": [], "banking77": [], "trec": ["--sep", "\t"], "emotion": ["--sep", ";"],
                    "spam_messy": ["--encoding", "cp1252"]}


def test_hold_out_never_overlaps_a_training_sample_and_the_test_set_is_capped():
    texts = [f"t{i % 400}" for i in range(600)]  # texts 0-199 appear twice
    labels = ["spam" if i % 7 == 0 else "ham" for i in range(600)]
    ds = core.DataSet("toy", "toy.csv", None, "v2", "v1", core.Format(",", quoted=True), holdout=100)
    pool = core.make_pool(ds, core.Table(["v1", "v2"], [[y, x] for x, y in zip(texts, labels)], ds.fmt), None)
    held = set(pool.test.column("v2"))
    assert len(pool.test.rows) == 100 and 0 < len(pool.candidates) < 500
    for n in (50, 200, 10_000):
        for seed in (1, 2, 3):
            index = core.sample_indices(pool, n, seed)
            assert not {texts[i] for i in index} & held and set(index) <= set(pool.candidates)
    big = core.DataSet("big", "big.csv", "big-test.csv", "text", "label", core.Format(","))
    test = core.Table(["text", "label"], [[f"x{i}", str(i % 3)] for i in range(3000)], big.fmt)
    capped = core.make_pool(big, core.Table(["text", "label"], [["a", "0"], ["b", "1"]], big.fmt), test)
    assert len(capped.test.rows) == core.TEST_CAP
    assert capped.test.rows == core.make_pool(big, capped.source, test).test.rows  # fixed: seed 0


def test_spam_hold_out_on_the_real_file_is_never_sampled_for_training():
    needs_shared_data()
    q = _load("quality")
    pool = q.load_pool("spam_messy")
    texts = pool.source.column("v2")
    assert len(pool.test.rows) == 1000 and Counter(pool.test.column("v1"))["spam"] in range(130, 140)
    held = set(pool.test.column("v2"))
    for n in (100, 1000, 3000):
        index = core.sample_indices(pool, n, 1)
        assert len(index) == n and not {texts[i] for i in index} & held


def test_every_method_gets_the_same_training_file_and_test_file(tmp_path):
    q = _load("quality")
    ds = core.DataSet("trec", "trec/train.csv", "trec/test.csv", "question", "label", core.DATASETS["trec"].fmt)
    rows = [[str(i), f"question {i} ?", "ABCDEF"[i % 6]] for i in range(300)]
    pool = core.make_pool(ds, core.Table(["id", "question", "label"], rows, ds.fmt),
                          core.Table(["id", "question", "label"], rows[:60], ds.fmt))
    samples = q.write_samples(pool, {(100, 1), (100, 2)}, tmp_path)
    again = q.write_samples(pool, {(100, 1)}, tmp_path / "again")
    assert samples[(100, 1)]["train_sha1"] == again[(100, 1)]["train_sha1"] != samples[(100, 2)]["train_sha1"]
    sample = samples[(100, 1)]
    written = core.read_table(sample["train_file"], ds.fmt).rows
    assert written == [rows[i] for i in core.sample_indices(pool, 100, 1)]
    args = q.parse_args(["--out", str(tmp_path)])
    files = {}
    for method in core.METHODS:
        cell = core.Cell("trec", 100, 1, method)
        if method in core.STUDIO_METHODS:
            data = q.studio_config(cell, sample, args)["data"]
            files[method] = (data["train_file"], data["test_file"])
            assert data["validation_file"] is None  # the studio carves its own out of the same rows
        elif method == "textbook":
            files[method] = tuple(q.textbook_command(cell, sample, "MODEL")[3:5])
        else:
            spec = q.baseline_spec(cell, sample, "MODEL", tmp_path, tmp_path / method)
            files[method] = (spec["train_file"], spec["test_file"])
    assert set(files.values()) == {(sample["train_file"], sample["test_file"])}


def test_studio_configs_are_the_presets_and_the_sweep_changes_one_knob(tmp_path):
    q = _load("quality")
    from studio import presets
    sample = {"train_file": "train.csv", "test_file": "test.csv"}
    args = q.parse_args(["--out", str(tmp_path)])
    default = q.studio_config(core.Cell("trec", 100, 2, "default"), sample, args)
    assert default["model"]["method"] == "auto" and default["model"]["name"] == "all-MiniLM-L6-v2"
    assert default["train"]["preset"] == "balanced" and default["train"]["device"] == "cpu"
    assert default["train"]["seed"] == 2
    full = q.studio_config(core.Cell("trec", 100, 2, "full"), sample, args)
    faster = q.studio_config(core.Cell("trec", 100, 2, "sweep: lr x2"), sample, args)
    assert full["model"]["method"] == "full" and faster["model"]["method"] == "full"
    assert faster["train"]["learning_rate"] == pytest.approx(2 * presets.preset_settings("balanced").learning_rate)
    assert {k: v for k, v in faster["train"].items() if k != "learning_rate"} == \
        {k: v for k, v in full["train"].items() if k != "learning_rate"}
    head = q.studio_config(core.Cell("trec", 100, 2, "sweep: head only"), sample, args)
    assert head["model"]["method"] == "freeze" and head["model"]["freeze_layers"] == -1
    quick = q.parse_args(["--quick", "--out", str(tmp_path)])
    assert q.studio_config(core.Cell("trec", 100, 1, "default"), sample, quick)["train"]["epochs"] == 1
    assert quick.datasets == ["trec"] and quick.sizes == [100] and quick.seeds == [1]
    assert quick.methods == ["tfidf_lr", "embed_lr", "default"] and quick.results == tmp_path


def test_cross_validation_folds_fall_back_when_classes_are_tiny():
    labels = ["a"] * 9 + ["b"] * 6 + ["c"] * 3
    folds, how = baselines.cv_folds(labels, 3, seed=0)
    assert how == "3-fold stratified" and sorted(sum(folds, [])) == list(range(18))
    assert all(Counter(labels[i] for i in f) == {"a": 3, "b": 2, "c": 1} for f in folds)
    folds, how = baselines.cv_folds(["a"] * 5 + ["b"] * 2, 3)
    assert len(folds) == 2 and how.startswith("2-fold stratified")
    folds, how = baselines.cv_folds(["a"] * 5 + ["b"] * 4 + ["c"], 3)
    assert len(folds) == 3 and "not stratified" in how and sorted(sum(folds, [])) == list(range(10))


def test_choose_c_picks_the_best_cross_validated_setting_and_survives_single_class_folds():
    labels = ["a", "b"] * 6

    def only_ten_is_right(train_rows, held, c):
        return [labels[i] if c == 10.0 else "a" for i in held]
    c, how, cv = baselines.choose_c(only_ten_is_right, labels, seed=0)
    assert c == 10.0 and cv[10.0] == 1.0 and how == "3-fold stratified"
    c, how, cv = baselines.choose_c(lambda *args: [], ["a", "a", "a", "b"], seed=0, grid=(1.0,))
    assert c == 1.0


def test_a_rerun_with_every_cell_done_runs_nothing_and_renders(tmp_path, capsys):
    needs_shared_data()
    q = _load("quality")
    done = [record(method=m, f1=0.5, test_rows=500, classes=6) for m in ("tfidf_lr", "embed_lr", "default")]
    path = tmp_path / "cells-quick.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in done))
    assert q.main(["--quick", "--out", str(tmp_path)]) == 0
    assert path.read_text().count("\n") == 3 and not (tmp_path / "runs").exists()
    assert "| 100 | 50.0 (60.0%)" in (tmp_path / "quality.md").read_text()
    assert q.main(["--quick", "--out", str(tmp_path), "--check"]) == 0
    assert "trec N=100: incomplete" in capsys.readouterr().out


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    needs_shared_data()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "quality.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a cell failed, which the records say
    records = core.load_records(tmp_path / "cells-quick.jsonl")
    assert set(records) == {"trec/100/1/tfidf_lr", "trec/100/1/embed_lr", "trec/100/1/default"}
    for key, r in records.items():
        assert r["status"] == "ok", f"{key}: {r.get('error')}"
        assert 0 < r["macro_f1"] <= 1 and 0 < r["accuracy"] <= 1 and r["test_rows"] == 500 and r["train_rows"] == 100
        assert r["train_seconds"] >= 0 and 1 <= r["distinct_predicted"] <= 6
    assert done.returncode == 0, done.stderr[-3000:]
    assert len({r["train_sha1"] for r in records.values()}) == 1  # one sample file for every method
    tfidf = records["trec/100/1/tfidf_lr"]
    assert tfidf["macro_f1"] > 2 / 6 and tfidf["accuracy"] > 2 / 6  # twice chance (1/6) at the least
    assert "## trec" in (tmp_path / "quality.md").read_text()
    assert json.loads((tmp_path / "quality.json").read_text())["records"]
