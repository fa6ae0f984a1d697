"""Tables the studio writes for people to open in a spreadsheet: cells that cannot run as formulas.

A spreadsheet runs a cell that starts with = + - @ (or a TAB or CR before one) as a formula, and a formula
can fetch URLs or start programs. The OWASP rule: put a single quote before such a cell, so the spreadsheet
shows it as text. Every table the studio writes (classified files, exports) goes through `neutralise_frame`;
a writer of another format calls `neutralise_formula` per cell.
"""
from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")  # "-3.5" is a number, not a formula


def neutralise_formula(cell):
    """The cell, with a single quote in front when a spreadsheet would read it as a formula; anything else unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with every text cell and column name neutralised; numbers stay numbers."""
    out = frame.copy()
    out.columns = [neutralise_formula(name) for name in frame.columns]
    for i, dtype in enumerate(frame.dtypes):
        if dtype == object or pd.api.types.is_string_dtype(dtype):  # by position: column names may repeat
            out.isetitem(i, frame.iloc[:, i].map(neutralise_formula, na_action="ignore"))
    return out

