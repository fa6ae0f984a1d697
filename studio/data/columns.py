"""Which column holds the free text and which the labels: the caller's choice checked, or a guess from names and content."""
from __future__ import annotations

import re

import pandas as pd

from .errors import DataError, list_columns

TEXT_NAMES = ("text", "sentence", "question", "message", "review", "content", "v2", "utterance", "query",
              "comment", "body", "document", "tweet", "description", "sms", "title")
LABEL_NAMES = ("label", "labels", "category", "class", "intent", "target", "sentiment", "v1", "label_name",
               "emotion", "topic", "tag", "y", "class_name", "label_text")
OTHER_NAMES = ("id", "idx", "index", "split", "source", "date", "lang", "language")
NUMBER = r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"


def norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def is_number(value: str) -> bool:
    return re.fullmatch(NUMBER, value) is not None


def _column_stats(column: pd.Series) -> dict:
    values = column.dropna()
    if len(values) > 20_000:
        values = values.sample(20_000, random_state=0)
    values = values.astype(str).str.strip()
    values = values[values != ""]
    n = len(values)
    if n == 0:
        return dict(n=0)
    unique = values.nunique()
    integer = values.str.fullmatch(r"[-+]?\d+").mean()
    lengths = values.str.len()
    no_space = not values.str.contains(r"\s", regex=True).any()
    return dict(n=n, unique=unique, ratio=unique / n, mean_len=lengths.mean(),
                numeric=values.str.fullmatch(NUMBER).mean(),
                # ids: every value different, and all integers or same-length codes with no spaces
                is_id=unique == n and n >= 5 and (integer == 1 or (no_space and lengths.max() - lengths.min() <= 2)))


def _pick_label(frame: pd.DataFrame, stats: dict, exclude=()) -> str:
    candidates = []
    for c in frame.columns:
        s, name = stats[c], norm_name(c)
        if c in exclude or s["n"] == 0:
            continue
        if name in LABEL_NAMES and s["mean_len"] <= 100:
            candidates.append((0, LABEL_NAMES.index(name), 0, c))
        elif (name not in TEXT_NAMES and not s["is_id"] and s["mean_len"] <= 60
              and 2 <= s["unique"] <= 200 and s["ratio"] <= 0.5):
            candidates.append((1, 0, s["ratio"], c))  # few distinct values, each repeated
    if not candidates:
        raise DataError(f"No column looks like labels (a short value repeated across rows) among "
                        f"{list_columns(frame)}; choose the label column yourself.", code="no_label_column",
                        columns=[str(c) for c in frame.columns])
    return min(candidates, key=lambda x: x[:3])[3]


def _pick_text(frame: pd.DataFrame, stats: dict, exclude=()) -> str:
    candidates = []
    for c in frame.columns:
        s, name = stats[c], norm_name(c)
        bonus = name in TEXT_NAMES and name not in LABEL_NAMES
        if c in exclude or s["n"] == 0 or (s["is_id"] and not bonus) or s["numeric"] > 0.5:
            continue
        candidates.append((bonus, s["mean_len"] * s["ratio"], c))  # long and varied
    if not candidates:
        raise DataError(f"No column looks like free text among {list_columns(frame)}; "
                        "choose the text column yourself.", code="no_text_column", columns=[str(c) for c in frame.columns])
    return max(candidates, key=lambda x: x[:2])[2]


def choose_columns(frame: pd.DataFrame, text_column=None, label_column=None, text_columns=None) -> tuple[str, str]:
    """The columns the caller named (checked), and a guess for those not named. With text_columns (several columns
    joined into the text) the first of them is returned as the text column."""
    texts = list(text_columns) if text_columns else [text_column] if text_column else []
    for column, kind in [(c, "text") for c in texts] + [(label_column, "label")]:
        if column is not None and column not in frame.columns:
            raise DataError(f"There is no column '{column}'; the columns are {list_columns(frame)}.",
                            code=f"no_{kind}_column", variant="missing", column=column,
                            columns=[str(c) for c in frame.columns])
    if label_column is not None and label_column in texts:
        raise DataError(f"The column '{label_column}' is chosen as both the text and the label; choose another "
                        "column for one of them.", code="same_column", column=label_column)
    text_column = texts[0] if texts else None
    if text_column and label_column:
        return text_column, label_column
    if frame.shape[1] < 2:
        raise DataError(f"The table has only one column ({list_columns(frame)}); it needs a column of texts "
                        "and a column of labels - check the delimiter or add the labels.", code="no_label_column",
                        variant="one_column", columns=[str(c) for c in frame.columns])
    stats = {c: _column_stats(frame[c]) for c in frame.columns}
    if label_column is None:
        label_column = _pick_label(frame, stats, exclude=texts)
    if text_column is None:
        text_column = _pick_text(frame, stats, exclude=[label_column])
    return text_column, label_column


def detect_columns(frame: pd.DataFrame) -> tuple[str, str]:
    return choose_columns(frame)
