"""studio/data/reading.py: what the reader adds beyond tests/test_data.py: the cache, the bounds on a file's work,
and the misreads it used to make silently."""
from __future__ import annotations

import os

import pytest

from studio.data import read_table, reading


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def parses(monkeypatch):
    """How many times the delimited-text parser ran."""
    calls = []
    real = reading._parse

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    reading._CACHE.clear()
    monkeypatch.setattr(reading, "_parse", counting)
    return calls


SMALL = "text,label\n" + "".join(f"review number {i} was fine,{'pos' if i % 2 else 'neg'}\n" for i in range(20))


# --- the cache -----------------------------------------------------------------------------------
def test_a_second_read_of_the_same_file_does_not_parse_again(tmp_path, parses):
    path = write(tmp_path, "a.csv", SMALL)
    first = read_table(path)
    second = read_table(path)
    assert len(parses) == 1
    assert second.frame.equals(first.frame) and second.notes == first.notes


def test_a_changed_file_or_other_options_are_read_again(tmp_path, parses):
    path = write(tmp_path, "a.csv", SMALL)
    read_table(path)
    read_table(path, has_header=False)
    assert len(parses) == 2
    path.write_text(SMALL + "one more line,pos\n")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    assert len(read_table(path).frame) == 21
    assert len(parses) == 3


def test_changing_a_returned_table_does_not_change_the_cached_one(tmp_path, parses):
    path = write(tmp_path, "a.csv", SMALL)
    table = read_table(path)
    table.frame.loc[0, "text"] = "changed"
    table.frame["extra"] = "x"
    table.notes.append("a note")
    again = read_table(path)
    assert again.frame.loc[0, "text"] == "review number 0 was fine"
    assert list(again.frame.columns) == ["text", "label"] and "a note" not in again.notes
