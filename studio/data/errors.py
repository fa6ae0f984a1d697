"""The data layer's error and the small helpers its sentences share."""
from __future__ import annotations


class DataError(ValueError):
    """A user-facing problem with input data; str() is one plain sentence. `code` (one of ERROR_CODES) and the
    values in `details` let a page say the same sentence in another language."""

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message, code)
        self.code = code  # the doctor's finding code where one fits, e.g. "no_label_column"
        self.details = details

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):  # details survive a trip through a worker process
        return _rebuild, (type(self), self.args, self.details)


def _rebuild(kind, args, details):
    error = kind.__new__(kind)
    DataError.__init__(error, *args, **details)
    return error


# Every code a DataError can carry; each has a sentence in every language the pages speak.
ERROR_CODES = ("missing_file", "not_a_file", "empty_file", "too_large", "file_kind", "old_excel", "zip_archive",
               "binary_file", "wrong_encoding", "mixed_encodings", "unknown_encoding", "bad_delimiter", "no_rows",
               "open_quote", "unparsable", "ragged_rows", "damaged_file", "invalid_json", "empty_sheet",
               "uncomputed_formulas", "no_text_column", "no_label_column", "no_split_column", "same_column",
               "unknown_label", "duplicate_label_name", "split_count", "unknown_split", "no_train_split", "no_examples",
               "single_class", "unseen_labels", "nothing_left")


def quoted(items, limit=5) -> str:
    """"a", "b", "c" and 2 more"""
    items = [f'"{x}"' for x in items]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def list_columns(frame) -> str:
    return ", ".join(f"'{c}'" for c in frame.columns)


def plural(n: int, word: str, many: str | None = None) -> str:
    """1 label, 2 labels, 1,204 rows."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"
