"""studio/data/reading.py: what the reader adds beyond tests/test_data.py: the cache, the bounds on a file's work,
and the misreads it used to make silently."""
from __future__ import annotations

import os

import pytest

from studio.data import DataError, limits, read_table, reading


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


# --- bounds on the work a file can cause ----------------------------------------------------------
def wide_csv(tmp_path):
    """The audit's reproduction: a 2 MB CSV whose row 52 holds a million fields."""
    path = tmp_path / "wide.csv"
    path.write_text("text,label\n" + "a b c,x\n" * 50 + ",".join(["v"] * 1_000_000) + "\n" + "d e f,y\n" * 190)
    return path


def test_the_wide_file_is_refused_with_a_sentence_before_parsing(tmp_path, parses):
    with pytest.raises(DataError) as e:
        read_table(wide_csv(tmp_path))
    assert e.value.code == "too_large" and not parses
    assert str(e.value).startswith("Row 52 of wide.csv has 1,000,000 fields, more than the 1,000 columns")


@pytest.mark.slow
def test_the_cli_answers_the_wide_file_with_a_sentence_in_bounded_memory(tmp_path):
    import subprocess
    import sys
    path = wide_csv(tmp_path)
    # the CLI's own peak memory, reported by the process itself (before the fix: past 10 GB)
    run_cli = ("import resource, runpy, sys\n"
               "sys.argv = ['studio', 'inspect', sys.argv[1]]\n"
               "try:\n    runpy.run_module('studio', run_name='__main__')\n"
               "except SystemExit as end:\n    code = end.code\n"
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
               "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", run_cli, str(path)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("Row 52 of wide.csv has 1,000,000 fields")
    assert int(done.stdout.split()[-1]) < 1000  # megabytes


def test_commas_inside_quoted_text_are_not_counted_as_columns(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_COLUMNS", 10)
    text = '"' + ", ".join(["word"] * 30) + '"'
    path = write(tmp_path, "q.csv", "text,label\n" + f"{text},a\n{text},b\nshort one,a\n")
    table = read_table(path)
    assert table.frame.shape == (3, 2) and table.frame["text"][0].count(",") == 29
    many = write(tmp_path, "m.csv", "text,label\n" + "x,y\n" + ",".join("z" * 11) + "\n")
    with pytest.raises(DataError, match="Row 3 of m.csv has 11 fields, more than the 10 columns"):
        read_table(many)


def test_too_many_cells_and_too_long_a_line(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CELLS", 100)
    path = write(tmp_path, "c.csv", "text,label\n" + "some text,a\n" * 60)
    with pytest.raises(DataError, match=r"c.csv holds 61 rows of 2 columns, more than the 100 cells"):
        read_table(path)
    monkeypatch.setattr(limits, "MAX_CELLS", 10_000)
    monkeypatch.setattr(limits, "MAX_ROW_BYTES", 1_000)
    long = write(tmp_path, "l.csv", "text,label\n" + "x" * 2_000 + ",a\nshort,b\n")
    with pytest.raises(DataError, match="A line of l.csv is 2 KB long, more than the 1000 bytes a row may take"):
        read_table(long)


def test_json_and_excel_are_bounded_too(tmp_path, monkeypatch):
    import json
    import openpyxl
    monkeypatch.setattr(limits, "MAX_COLUMNS", 10)
    keys = write(tmp_path, "k.jsonl", "\n".join(json.dumps({"text": "t", f"key{i}": "v"}) for i in range(12)))
    with pytest.raises(DataError, match="Row 10 of k.jsonl has 11 fields"):
        read_table(keys)
    book = openpyxl.Workbook()
    book.active.append(["text", "label"])
    book.active.append(["v"] * 12)
    book.save(tmp_path / "w.xlsx")
    with pytest.raises(DataError, match="w.xlsx has cells in column 1[12], past the 10 columns"):
        read_table(tmp_path / "w.xlsx")
    monkeypatch.setattr(limits, "MAX_CELLS", 20)
    book = openpyxl.Workbook()
    for i in range(12):
        book.active.append([f"text {i}", "a"])
    book.save(tmp_path / "c.xlsx")
    with pytest.raises(DataError, match="more than the 20 cells"):
        read_table(tmp_path / "c.xlsx")


def test_data_errors_survive_a_worker_process():
    import pickle
    error = pickle.loads(pickle.dumps(DataError("A sentence.", code="too_large")))
    assert str(error) == "A sentence." and error.code == "too_large"


def test_a_workbook_with_one_far_away_cell_is_refused_before_it_is_filled_in(tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["text", "label"])
    book.active["XFD1048576"] = "x"  # a reader filling the rectangle would make 17 billion cells
    book.save(tmp_path / "far.xlsx")
    with pytest.raises(DataError, match="far.xlsx has cells in column 16,384, past the 1,000 columns"):
        read_table(tmp_path / "far.xlsx")


@pytest.mark.slow
def test_read_table_and_inspect_run_in_a_worker_process(tmp_path):
    """What the studio can hand to a process pool: plain arguments in, a Table / Report / DataError out."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from studio.data import inspect
    good = write(tmp_path, "mixed.csv", "")
    good.write_bytes(b"text,label\n" + "Crème brûlée,pos\n".encode() * 3 + "Café,neg\n".encode("latin-1") * 3)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        table = pool.submit(read_table, good).result(timeout=120)
        report = pool.submit(inspect, str(good)).result(timeout=120)
        refused = pool.submit(read_table, wide_csv(tmp_path)).exception(timeout=120)
    assert table.encoding == "utf-8+cp1252" and table.frame["text"].tolist()[2:4] == ["Crème brûlée", "Café"]
    assert report.label_counts == {"neg": 3, "pos": 3}
    assert isinstance(refused, DataError) and refused.code == "too_large"
