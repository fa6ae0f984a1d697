"""Comparing runs: settings that differ, per-example fixed and broken texts, McNemar's exact test, the sentences."""
import json

import pytest

from studio import compare
from studio.__main__ import main
from studio.config import DataConfig, RunConfig, TrainConfig
from studio.metrics import full_report
from studio.runs import Run

LABELS = ["neg", "pos"]


def _run(runs_dir, name, lr, truth, predicted, texts=None):
    config = RunConfig(data=DataConfig(train_file="reviews.csv"), train=TrainConfig(learning_rate=lr), name=name)
    run = Run.create(runs_dir, config)
    texts = texts or [f"text {i}" for i in range(len(truth))]
    with open(run.path / "predictions.jsonl", "w", encoding="utf-8") as f:
        for text, true, pred in zip(texts, truth, predicted):
            f.write(json.dumps({"text": text, "label": LABELS[true], "predicted": LABELS[pred]}) + "\n")
    run.write_json("metrics.json", full_report(truth, predicted, LABELS))
    for step, loss in ((1, 0.9), (2, 0.5)):
        run.append_event({"type": "step", "step": step, "loss": loss * lr * 1e4})
    run.append_event({"type": "eval", "step": 2, "loss": 0.4, "accuracy": 0.8, "macro_f1": 0.79})
    run.set_status("finished", "Finished.")
    return run


@pytest.fixture
def two_runs(tmp_path):
    """Run B fixes 23 texts run A got wrong and breaks 7 that A got right, of 100."""
    truth = [i % 2 for i in range(100)]
    a = [t if i >= 30 else 1 - t for i, t in enumerate(truth)]          # A wrong on texts 0-29
    b = [t if i < 23 or 30 <= i < 93 else 1 - t for i, t in enumerate(truth)]   # B wrong on 23-29 and 93-99
    return _run(tmp_path, "first", 1e-4, truth, a), _run(tmp_path, "second", 3e-4, truth, b)


def test_mcnemar_exact_test_matches_the_binomial():
    from scipy.stats import binomtest
    for wins, losses in ((23, 7), (5, 5), (10, 0), (1, 2), (40, 25)):
        assert compare.mcnemar_p(wins, losses) == pytest.approx(binomtest(wins, wins + losses, 0.5).pvalue)
    assert compare.mcnemar_p(0, 0) == 1.0


def test_run_b_fixed_23_texts_and_broke_7(two_runs):
    a, b = two_runs
    result = compare.compare([a, b])
    [p] = result["pairs"]
    assert p["shared_test"] and (p["fixed_count"], p["broken_count"]) == (23, 7)
    assert p["fixed"][0] == "text 0" and p["broken"] == [f"text {i}" for i in range(93, 100)]
    assert p["better"] == "b" and p["significant"] and p["p_value"] == pytest.approx(compare.mcnemar_p(23, 7))
    differing = {s["key"]: s["values"] for s in result["settings"] if s["differs"]}
    assert differing == {"train.learning_rate": [1e-4, 3e-4], "name": ["first", "second"]}
    assert [r["accuracy"] for r in result["runs"]] == [0.7, pytest.approx(0.86)]
    assert [row["label"] for row in result["per_label"]] == LABELS and all(len(r["f1"]) == 2 for r in result["per_label"])
    assert result["curves"][b.id]["train_loss"] == [(1, pytest.approx(2.7)), (2, pytest.approx(1.5))]
    english, chance = compare.sentences(result)
    assert english.startswith(f"**second ({b.id})** is better than **first ({a.id})**") and "23 right" in english
    assert "most likely real" in chance
    chinese = compare.sentences(result, "zh-CN")
    assert "更好" in chinese[0] and "23 条" in chinese[0] and "很可能是真实的差异" in chinese[1]


def test_a_small_difference_is_called_chance_and_other_test_sets_are_not_paired(tmp_path):
    truth = [i % 2 for i in range(20)]
    a = _run(tmp_path, "a", 1e-4, truth, [t if i else 1 - t for i, t in enumerate(truth)])
    b = _run(tmp_path, "b", 1e-4, truth, [t if i > 2 else 1 - t for i, t in enumerate(truth)])
    result = compare.compare([a, b])
    assert result["pairs"][0]["better"] == "a" and not result["pairs"][0]["significant"]
    assert "could well be chance" in compare.sentences(result)[1]
    c = _run(tmp_path, "c", 1e-4, truth, truth, texts=[f"other {i}" for i in range(20)])
    result = compare.compare([a, c])
    assert not result["pairs"][0]["shared_test"] and "tested on different texts" in compare.sentences(result)[0]


def test_the_same_texts_in_another_order_are_paired(tmp_path):
    truth = [i % 2 for i in range(10)]
    texts = [f"t{i}" for i in range(10)]
    a = _run(tmp_path, "a", 1e-4, truth, truth, texts)
    b = _run(tmp_path, "b", 1e-4, truth[::-1], [1 - t for t in truth[::-1]], texts[::-1])
    p = compare.compare([a, b])["pairs"][0]
    assert p["shared_test"] and p["broken_count"] == 10 and p["fixed_count"] == 0


def test_cli_compare_prints_the_verdict_and_the_texts(two_runs, capsys):
    a, b = two_runs
    assert main(["compare", str(a.path), str(b.path), "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "train.learning_rate: 0.0001 | 0.0003" in out and "is better than" in out and "**" not in out
    assert f"second ({b.id}) fixed these 23 texts" in out and "- text 0" in out and "and 21 more" in out
    assert main(["compare", str(a.path), "no-such-run", "--runs-dir", str(a.path.parent)]) == 2
    assert "No run called 'no-such-run'" in capsys.readouterr().err
