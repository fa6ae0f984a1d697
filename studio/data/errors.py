"""The data layer's error and the small helpers its sentences share."""
from __future__ import annotations


class DataError(ValueError):
    """A user-facing problem with input data; str() is one plain sentence."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message, code)
        self.code = code  # the doctor's finding code where one fits, e.g. "no_label_column"

    def __str__(self) -> str:
        return self.args[0]


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
