"""Which files the studio reads: one list for the command line, the upload components and the reader itself."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")
ACCEPTED_SUFFIXES = TABLE_SUFFIXES + (".zip",)   # a zip archive holding one table
# Files without an extension are read too (the original SMSSpamCollection is one): their content says what they are.
ACCEPTED_KINDS = ("CSV, TSV, TXT, Excel (.xlsx), JSON or JSON lines, a zip holding one of these, "
                  "or a file without an extension that holds such a table")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def accepted_file(path) -> bool:
    """Whether the studio reads a file of this name: one of ACCEPTED_SUFFIXES, or no extension at all."""
    suffix = Path(str(path)).suffix.lower()
    return suffix == "" or suffix in ACCEPTED_SUFFIXES


def check_file_kind(path) -> None:
    """A DataError with one sentence for a file the studio does not read (a PDF, a Word document, an image ...)."""
    if not accepted_file(path):
        name = os.path.basename(str(path))
        raise DataError(f"{name} is not a kind of file the studio reads ({Path(name).suffix}); "
                        f"upload {ACCEPTED_KINDS}.", code="file_kind", name=name, suffix=Path(name).suffix)


def output_suffix(input_path) -> str:
    """The kind a classified copy of the input comes back as: .xlsx for an Excel input, else .csv."""
    return ".xlsx" if Path(str(input_path)).suffix.lower() in EXCEL_SUFFIXES else ".csv"
