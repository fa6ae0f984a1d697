"""Examples: the (text, label) pairs a table holds, once its text and label columns are known."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .columns import choose_columns
from .reading import Table, read_table


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]     # label names as strings, whitespace-stripped; numeric labels become their string
    rows: list[int] = field(default_factory=list)  # each example's row number in the table (0-based), if known

    def __len__(self):
        return len(self.texts)

    def take(self, index) -> "Examples":
        return Examples([self.texts[i] for i in index], [self.labels[i] for i in index],
                        [self.rows[i] for i in index] if self.rows else [])


def as_text(column: pd.Series) -> pd.Series:
    """The column as str objects, missing as NaN; blank strings count as missing. Reuses the strings already there."""
    values = column.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) != "string":  # numbers in a table built by hand
        values = values.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
    blank = (values == "") | values.str.isspace().eq(True)
    return values.where(~blank.to_numpy())


def _label_name(value: str) -> str:
    value = value.strip()
    return re.sub(r"\.0+$", "", value) if re.fullmatch(r"[-+]?\d+\.0+", value) else value  # 1.0 -> "1"


def load_examples(table: Table, text_column: str, label_column: str) -> Examples:
    frame = table.frame
    choose_columns(frame, text_column, label_column)  # raises for a column that is not there
    texts, labels = as_text(frame[text_column]), as_text(frame[label_column])  # texts stay exact
    keep = (texts.notna() & labels.notna()).to_numpy()
    labels = labels[keep]
    names = {v: _label_name(v) for v in labels.unique()}  # labels repeat: clean each distinct one once
    return Examples(texts[keep].tolist(), labels.map(names).tolist(), np.flatnonzero(keep).tolist())


def read_examples(path, text_column=None, label_column=None, encoding=None) -> tuple[Examples, Table, str, str]:
    table = read_table(path, encoding=encoding)
    text_column, label_column = choose_columns(table.frame, text_column, label_column)
    return load_examples(table, text_column, label_column), table, text_column, label_column


def sort_labels(labels) -> list[str]:
    labels = set(labels)
    if all(re.fullmatch(r"[-+]?\d+", y) for y in labels):
        return sorted(labels, key=int)
    return sorted(labels)
