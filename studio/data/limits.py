"""Bounds on the work any file can cause, checked before it is parsed: columns, row size and cells in all.

A 2 MB CSV with one row of a million fields made pandas build 241 million cells (past 10 GB) and froze the studio;
these checks scan the bytes (numpy, about 1 s for 200 MB) and answer such a file with one sentence instead.
"""
from __future__ import annotations

import codecs
import csv
import os
import zipfile

import numpy as np

from ..security import describe_size
from .errors import DataError

MAX_COLUMNS = 1_000             # fields in a row; a classification table has a handful
MAX_ROW_BYTES = 4 << 20         # one line of the file (a text of about a million characters)
MAX_CELLS = 20_000_000          # rows x columns; pandas holds about 50 bytes a cell, so about 1 GB
MAX_UNZIPPED_BYTES = 1 << 30    # an Excel workbook's XML once unzipped (a 200 MB upload unzips to a few times that)
CHUNK_BYTES = 4 << 20

csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_BYTES))  # the exact count below reads rows this long


def too_many_columns(name: str, row: int | None, columns: int) -> DataError:
    if row is None:
        return DataError(f"{name} has cells in column {columns:,}, past the {MAX_COLUMNS:,} columns a table here may "
                         "have; keep only the text and label columns and save it again.", code="too_large",
                         variant="columns", name=name, columns=columns, limit=MAX_COLUMNS)
    return DataError(f"Row {row:,} of {name} has {columns:,} fields, more than the {MAX_COLUMNS:,} columns a table "
                     "here may have; check that row (or the delimiter) and export the table again.", code="too_large",
                     variant="row_fields", name=name, row=row, columns=columns, limit=MAX_COLUMNS)


def too_many_cells(name: str, rows: int, columns: int) -> DataError:
    return DataError(f"{name} holds {rows:,} rows of {columns:,} columns, more than the {MAX_CELLS:,} cells the studio "
                     "reads; keep only the text and label columns, or use a sample of the rows.", code="too_large",
                     variant="cells", name=name, rows=rows, columns=columns, limit=MAX_CELLS)


def check_text_shape(path: str, encoding: str, delimiter: str) -> None:
    """Raise a DataError before parsing when a delimited text file would need more than the limits allow."""
    name = os.path.basename(path)
    lines, fields, longest, widest_line = _scan(path, encoding, delimiter)
    if longest > MAX_ROW_BYTES:
        raise DataError(f"A line of {name} is {describe_size(longest)} long, more than the {describe_size(MAX_ROW_BYTES)} "
                        "a row may take; check for a missing line break and export the table again.", code="too_large",
                        variant="line", name=name, size=describe_size(longest), limit=describe_size(MAX_ROW_BYTES))
    if fields <= MAX_COLUMNS and lines * fields <= MAX_CELLS:
        return
    # The byte counts count delimiters inside quoted text too and quoted line breaks as rows; count exactly.
    rows, fields, widest_row = _count_rows(path, encoding, delimiter)
    if fields > MAX_COLUMNS:
        raise too_many_columns(name, widest_row, fields)
    if rows * fields > MAX_CELLS:
        raise too_many_cells(name, rows, fields)


def _ascii_chunks(path: str, encoding: str):
    """The file in chunks of bytes in which line breaks and delimiters are their ASCII bytes."""
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace") if wide else None
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield decoder.decode(chunk).encode("utf-8") if decoder else chunk


def _scan(path: str, encoding: str, delimiter: str) -> tuple[int, int, int, int]:
    """(lines, most fields in a line, longest line in bytes, the line number with most fields), from the raw bytes."""
    end = _line_end(path)
    mark = ord(delimiter)
    lines = most = longest = widest = 0
    carry_count = carry_len = 0  # the unfinished line at the end of the previous chunk
    for chunk in _ascii_chunks(path, encoding):
        data = np.frombuffer(chunk, dtype=np.uint8)
        breaks = np.flatnonzero(data == end)
        marks = np.concatenate(([0], np.cumsum(data == mark, dtype=np.int32)))
        if len(breaks):
            counts = np.diff(marks[np.concatenate(([0], breaks + 1))])
            counts[0] += carry_count
            lengths = np.diff(np.concatenate(([-1], breaks)))
            lengths[0] += carry_len
            i = int(counts.argmax())
            if counts[i] + 1 > most:
                most, widest = int(counts[i]) + 1, lines + i + 1
            longest = max(longest, int(lengths.max()))
            lines += len(breaks)
            carry_count = int(marks[-1] - marks[breaks[-1] + 1])
            carry_len = len(data) - int(breaks[-1]) - 1
        else:
            carry_count += int(marks[-1])
            carry_len += len(data)
        longest = max(longest, carry_len)
    if carry_len:
        lines += 1
        if carry_count + 1 > most:
            most, widest = carry_count + 1, lines
    return lines, most, longest, widest


def _line_end(path: str) -> int:
    """The byte that ends lines: LF, or CR in a file saved with old Mac line endings (no LF at all)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    return 13 if b"\n" not in head and b"\r" in head else 10


def _count_rows(path: str, encoding: str, delimiter: str) -> tuple[int, int, int]:
    """(rows, most fields in a row, that row's number), reading the file as CSV one row at a time."""
    rows = most = widest = 0
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        try:
            for row in csv.reader(f, delimiter=delimiter, quoting=quoting):
                rows += 1
                if len(row) > most:
                    most, widest = len(row), rows
                    if most > MAX_COLUMNS:
                        break
        except csv.Error:
            raise DataError(f"{os.path.basename(path)} could not be read as a table (a field runs past "
                            f"{describe_size(MAX_ROW_BYTES)}); check its quote marks and export it again.",
                            code="too_large", variant="field", name=os.path.basename(path),
                            limit=describe_size(MAX_ROW_BYTES)) from None
    return rows, most, widest


def check_workbook(path: str) -> None:
    """Raise a DataError before opening an Excel workbook whose XML would unzip to more than the limit."""
    name = os.path.basename(path)
    try:
        with zipfile.ZipFile(path) as z:
            unzipped = sum(info.file_size for info in z.infolist())
    except zipfile.BadZipFile:
        return  # the workbook reader says it is damaged, in its own sentence
    if unzipped > MAX_UNZIPPED_BYTES:
        raise DataError(f"{name} unzips to {describe_size(unzipped)}, more than the {describe_size(MAX_UNZIPPED_BYTES)} "
                        "the studio reads from a workbook; keep only the text and label columns or save it as CSV.",
                        code="too_large", variant="workbook", name=name, size=describe_size(unzipped),
                        limit=describe_size(MAX_UNZIPPED_BYTES))


class CellCounter:
    """Counts the cells of rows as they are read (Excel, JSON) and stops at a row or a table over the limits."""

    def __init__(self, name: str):
        self.name, self.rows, self.columns = name, 0, 0

    def add(self, width: int) -> None:
        self.rows += 1
        if width > MAX_COLUMNS:
            raise too_many_columns(self.name, self.rows, width)
        self.columns = max(self.columns, width)
        if self.rows * self.columns > MAX_CELLS:
            raise too_many_cells(self.name, self.rows, self.columns)
