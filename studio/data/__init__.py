"""Data in: read a user's table, pick its text and label columns, check it (the data doctor), split it.

reading    read_table: CSV / TSV / TXT (encoding, delimiter, header sniffed), XLSX, JSON, JSON lines -> Table
columns    choose_columns / detect_columns: which column holds the free text and which the labels
examples   load_examples / read_examples: Table + column names -> Examples (texts, labels)
doctor     inspect: a Report of Findings, never raises for a bad file
splits     make_splits: train / validation / test, stratified, from files, a split column or carved out of train
limits     the bounds on the work any file can cause, checked before parsing
kinds      the files the studio reads (ACCEPTED_SUFFIXES, check_file_kind), one list for the CLI and the UI
writing    write_table: a classified table back as .xlsx or UTF-8 CSV with a byte-order mark

Every DataError message is one plain sentence for the person who owns the data: what is wrong, what to do.
"""
from .columns import choose_columns, detect_columns
from .doctor import Finding, Report, inspect
from .errors import DataError
from .examples import Examples, check_settings, load_examples, read_examples, sort_labels
from .kinds import ACCEPTED_KINDS, ACCEPTED_SUFFIXES, accepted_file, check_file_kind, output_suffix
from .reading import Table, encoding_note, read_table
from .splits import (MIN_PER_CLASS, SPLIT_NAMES, Splits, make_splits, partition_by_split, split_values_of,
                     stratified_sample)
from .writing import write_table

__all__ = ["ACCEPTED_KINDS", "ACCEPTED_SUFFIXES", "DataError", "Examples", "Finding", "MIN_PER_CLASS", "Report",
           "SPLIT_NAMES", "Splits", "Table", "accepted_file", "check_file_kind", "check_settings", "choose_columns",
           "detect_columns", "encoding_note", "inspect", "load_examples", "make_splits", "output_suffix",
           "partition_by_split", "read_examples", "read_table", "sort_labels", "split_values_of", "stratified_sample",
           "write_table"]
