"""Examples: the (text, label) pairs a table holds, once its text and label columns are known."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .columns import choose_columns
from .errors import DataError, list_columns, quoted
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


# Spreadsheet and pandas spellings of "no value": a label like these is a missing label, not a class.
MISSING_LABELS = frozenset({"nan", "#n/a", "n/a", "null", "<na>", "#null!"})
# Characters that do not show: a label with one of these looks the same as the label without it.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_label(value: str) -> str | None:
    """The label as a class name: invisible characters and outer spaces removed, 1.0 -> "1"; None when missing."""
    value = INVISIBLE.sub("", value).strip()
    if not value or value.casefold() in MISSING_LABELS:
        return None
    return re.sub(r"\.0+$", "", value) if re.fullmatch(r"[-+]?\d+\.0+", value) else value


def joined_text(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One text per row: the column itself, or several columns' texts joined by a line break (empty ones left out)."""
    if len(columns) == 1:
        return as_text(frame[columns[0]])
    parts = [as_text(frame[c]).tolist() for c in columns]
    joined = ["\n".join(p for p in row if isinstance(p, str)) or None for row in zip(*parts)]
    return pd.Series(joined, index=frame.index, dtype=object)


def text_columns_of(text_column: str | None, text_columns: list[str] | None) -> list[str] | None:
    """The columns that make the text: text_columns when given (they override text_column), else text_column."""
    if text_columns:
        return list(text_columns)
    return [text_column] if text_column else None


def check_columns(frame: pd.DataFrame, text_columns: list[str], label_column: str) -> None:
    """A DataError for a text column chosen twice, or a column chosen as both text and label."""
    repeated = sorted({c for c in text_columns if text_columns.count(c) > 1})
    if repeated:
        raise DataError(f"The column '{repeated[0]}' is chosen twice as text; choose each text column once.",
                        code="same_column", variant="twice", column=repeated[0])
    choose_columns(frame, None, label_column, text_columns)  # a missing column, or one taken as text and label


def rename_labels(labels: list[str], label_names: dict | None, label_column: str = "the label column",
                  names_must_match: bool = True) -> list[str]:
    """Each raw label replaced by the name the user gave it (labels without one keep theirs); a DataError for a
    name given to a label that is not there, or two labels that would end up with one name."""
    if not label_names:
        return labels
    names = {str(k).strip(): str(v).strip() for k, v in label_names.items()}
    present = sort_labels(set(labels))
    unknown = [k for k in names if k not in present]
    if unknown and names_must_match:
        raise DataError(f"The label {quoted(unknown)} was given a name but does not occur in '{label_column}' (its "
                        f"labels are {quoted(present, 10)}); check the spelling or remove that name.",
                        code="unknown_label", labels=unknown, column=label_column, present=present)
    final = {y: names.get(y, y) for y in present}
    by_name = {}
    for raw, name in final.items():
        by_name.setdefault(name, []).append(raw)
    clashes = [raws for raws in by_name.values() if len(raws) > 1]
    if clashes:
        raws = clashes[0]
        raise DataError(f"The labels {quoted(raws)} would all be called \"{final[raws[0]]}\"; give each label a name "
                        "of its own (labels without a name keep their own).", code="duplicate_label_name",
                        labels=raws, name=final[raws[0]])
    return [final[y] for y in labels]


def load_examples(table: Table, text_column: str | None, label_column: str, text_columns: list[str] | None = None,
                  label_names: dict | None = None, names_must_match: bool = True) -> Examples:
    """The rows that have both a text and a label. text_columns (several columns joined by a line break) override
    text_column; label_names {raw label: name} rename labels here, so everything downstream sees the names."""
    frame = table.frame
    columns = text_columns_of(text_column, text_columns)
    if not columns:
        raise DataError("Choose the column that holds the texts.", code="no_text_column", variant="none_chosen")
    check_columns(frame, columns, label_column)
    texts = joined_text(frame, columns)  # texts stay exact
    labels = as_text(frame[label_column])
    names = {v: clean_label(v) for v in labels.dropna().unique()}  # labels repeat: clean each distinct one once
    labels = labels.map(names)
    keep = (texts.notna() & labels.notna()).to_numpy()
    kept = rename_labels(labels[keep].tolist(), label_names, label_column, names_must_match)
    return Examples(texts[keep].tolist(), kept, np.flatnonzero(keep).tolist())


def label_problems(frame: pd.DataFrame, label_column: str) -> tuple[Counter, list[str]]:
    """(how often each "no value" spelling stands in for a label, labels that hold invisible characters)."""
    raw = as_text(frame[label_column]).dropna()
    stripped = raw.str.strip()
    missing = Counter(stripped[stripped.str.casefold().isin(MISSING_LABELS)].tolist())
    invisible = sorted({v for v in raw.unique() if INVISIBLE.search(v)})
    return missing, invisible


def read_examples(path, text_column=None, label_column=None, encoding=None, text_columns=None, label_names=None,
                  names_must_match=True) -> tuple[Examples, Table, str, str]:
    """Examples from a file; the text column is detected when neither text_column nor text_columns is given."""
    table = read_table(path, encoding=encoding)
    text_column, label_column = choose_columns(table.frame, text_column, label_column, text_columns)
    examples = load_examples(table, text_column, label_column, text_columns, label_names, names_must_match)
    return examples, table, text_column, label_column


def check_settings(settings) -> None:
    """Raise the DataError training would meet loading the data these DataConfig settings describe (an unreadable
    file, a column that is not there, a name given to a label that is not there), before a run is created. The reads
    go through the reader's cache, so training's own reads of the same files cost nothing more."""
    examples, table, _, _ = read_examples(settings.train_file, settings.text_column, settings.label_column,
                                          settings.encoding, settings.text_columns, settings.label_names)
    if settings.split_column and settings.split_column not in table.frame.columns:
        raise DataError(f"There is no column called {settings.split_column!r} to split by; the columns are "
                        f"{list_columns(table.frame)}.", code="no_split_column",
                        column=settings.split_column, columns=[str(c) for c in table.frame.columns])
    for path in (settings.validation_file, settings.test_file):
        if path:
            read_table(path)


def sort_labels(labels) -> list[str]:
    labels = set(labels)
    if all(re.fullmatch(r"[-+]?\d+", y) for y in labels):
        return sorted(labels, key=int)
    return sorted(labels)
