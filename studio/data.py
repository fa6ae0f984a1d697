"""Data in: read a user's table, pick its text and label columns, check it (the data doctor), split it.

read_table      CSV / TSV / TXT (delimiter sniffed), XLSX, JSON lines -> Table (every value a str)
detect_columns  which column holds the free text and which the labels
load_examples   Table + column names -> Examples (texts, labels), empty rows dropped
inspect         the data doctor: a Report of Findings, never raises for a bad file
make_splits     train / validation / test, stratified, from files, a split column or carved out of train

Every DataError message is one plain sentence for the person who owns the data: what is wrong, what to do.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
TEXT_NAMES = ("text", "sentence", "question", "message", "review", "content", "v2", "utterance", "query",
              "comment", "body", "document", "tweet", "description", "sms", "title")
LABEL_NAMES = ("label", "labels", "category", "class", "intent", "target", "sentiment", "v1", "label_name",
               "emotion", "topic", "tag", "y", "class_name", "label_text")
OTHER_NAMES = ("id", "idx", "index", "split", "source", "date", "lang", "language")
SAMPLE_BYTES = 1 << 20      # encoding and delimiter are judged on this much of the file's start ...
PROBE_BYTES = 1 << 18       # ... plus this much from its middle and its end
MIN_PER_CLASS = 3           # a class needs 3 examples to appear in train, validation and test
MAX_TOKENIZED = 20_000      # the doctor tokenizes at most this many texts
NUMBER = r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class DataError(ValueError):
    """A user-facing problem with input data; str() is one plain sentence."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code  # the doctor's finding code where one fits, e.g. "no_label_column"


# ----------------------------------------------------------------------------- reading

@dataclass
class Table:
    frame: pd.DataFrame   # every column as read, values as str (object dtype; missing = None/NaN), column names as str
    path: str
    encoding: str | None  # python codec name used to read the file; None for xlsx
    delimiter: str | None  # ',', '\t', ';', '|'; None for xlsx / jsonl
    has_header: bool
    notes: list[str] = field(default_factory=list)  # plain sentences about what reading had to work around


def read_table(path, encoding=None, delimiter=None, has_header=None, max_bytes=None) -> Table:
    path = str(path)
    name, suffix = os.path.basename(path), Path(path).suffix.lower()
    if not os.path.exists(path):
        raise DataError(f"There is no file at {path}; check the name and folder.")
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder, not a file; pick the CSV or Excel file inside it.")
    size = os.path.getsize(path)
    if size == 0:
        raise DataError(f"The file {name} is empty; export the table again.")
    if max_bytes and size > max_bytes:
        raise DataError(f"The file {name} is {_mb(size)}, over the {_mb(max_bytes)} limit; "
                        "upload a smaller file or a sample of the rows.")
    samples = _byte_samples(path, size)
    head = samples[0]
    if head.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise DataError(f"{name} is an old-style Excel .xls file; save it as .xlsx or CSV and upload that.")
    if suffix in (".xlsx", ".xlsm") or head.startswith(b"PK\x03\x04"):
        table = _read_xlsx(path, has_header)
        if suffix not in (".xlsx", ".xlsm"):
            table.notes.insert(0, f"{name} is really an Excel workbook, so it was read as one.")
        return table
    guessed = not encoding
    encoding = _detect_encoding(samples, name) if guessed else _checked_encoding(encoding, samples)
    try:
        table = _read_text(path, encoding, head, delimiter, has_header, suffix)
    except _BadBytes:  # bytes past the samples do not fit the encoding
        samples = _scan_samples(path)
        if not guessed:
            raise DataError(_wrong_encoding(encoding, samples)) from None
        encoding = _detect_encoding(samples, name)
        try:
            table = _read_text(path, encoding, head, delimiter, has_header, suffix)
        except _BadBytes:
            raise DataError(f"{name} mixes text encodings (its rows do not all decode as {encoding}); "
                            "open it in a spreadsheet program and save it again as UTF-8.") from None
    if guessed and not encoding.startswith("utf-"):
        table.notes.insert(0, encoding_note(encoding))
    return table


class _BadBytes(Exception):
    """The file stopped decoding part-way through."""


def _read_text(path, encoding, head, delimiter, has_header, suffix) -> Table:
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _read_json(path, encoding)
    return _read_delimited(path, encoding, _decode_head(head, encoding), delimiter, has_header, suffix)


def _byte_samples(path, size) -> list[bytes]:
    """The file's first megabyte, plus a slice of its middle and end (each starting on a new line)."""
    with open(path, "rb") as f:
        samples = [f.read(SAMPLE_BYTES)]
        for start in (size // 2, size - PROBE_BYTES):
            if start > SAMPLE_BYTES:
                f.seek(start)
                chunk = f.read(PROBE_BYTES)
                samples.append(chunk[chunk.find(b"\n") + 1:])
    return samples


def _scan_samples(path) -> list[bytes]:
    """The head plus the first pieces of the whole file that are not UTF-8 (a slower scan, only when needed)."""
    samples = _byte_samples(path, 0)
    with open(path, "rb") as f:
        while len(samples) < 4 and (chunk := f.read(4 * PROBE_BYTES)):
            chunk = chunk[chunk.find(b"\n") + 1:chunk.rfind(b"\n")]
            if not _decodes(chunk, "utf-8"):
                samples.append(chunk)
    return samples


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)  # a cut-off last character is fine
        return True
    except UnicodeDecodeError:
        return False


def _detect_encoding(samples: list[bytes], name="The file") -> str:
    head = samples[0]
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return encoding
    if b"\x00" not in head and all(_decodes(s, "utf-8") for s in samples):
        return "utf-8"
    encoding = _guess_legacy(samples)
    if encoding is None or (b"\x00" in head and not encoding.startswith("utf-")):
        raise DataError(f"{name} is not a text table (it holds binary data); "
                        "upload a CSV, TSV, Excel (.xlsx) or JSON lines file.")
    return encoding


def _guess_legacy(samples: list[bytes]) -> str | None:
    """charset-normalizer's guess, judged on the lines that hold non-ASCII bytes (the only ones that tell)."""
    from charset_normalizer import from_bytes
    lines = [line for s in samples for line in s.split(b"\n") if max(line, default=0) > 127]
    data = b"\n".join(lines)[:1 << 16] or samples[0][:1 << 16]
    if b"\x00" in samples[0]:
        data = samples[0][:1 << 16]  # UTF-16 without a byte-order mark: judge the raw start
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # charset-normalizer often names cp1250 or cp850 for Western text; cp1252 is far more common, so it wins among
    # single-byte code pages whenever charset-normalizer still finds it plausible
    single_byte = len(bytes(range(256)).decode(best.encoding, errors="replace")) == 256
    if single_byte and any("cp1252" in (m.encoding, *m.could_be_from_charset) for m in matches):
        return "cp1252"
    return _codec_name(best.encoding)


def _codec_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name in ("gbk", "gb2312", "hz"):
        return "gb18030"  # the superset; Chinese Excel exports are one of these
    return {"iso8859-1": "latin-1", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(name, name)


def _checked_encoding(encoding: str, samples: list[bytes]) -> str:
    try:
        encoding = _codec_name(encoding)
    except LookupError:
        raise DataError(f"'{encoding}' is not an encoding name Python knows; try utf-8, cp1252 or gb18030.") from None
    if not all(_decodes(s, encoding) for s in samples[:1 if encoding.startswith("utf-16") else None]):
        raise DataError(_wrong_encoding(encoding, samples))
    return encoding


def _wrong_encoding(encoding: str, samples: list[bytes]) -> str:
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding
    try:
        actual = _detect_encoding(samples)
    except DataError:
        return f"The file is not {shown} text; check that it is a CSV or text export."
    return f"The file is not {shown}; it decodes as {actual} - re-save it as UTF-8 or pick {actual} as the encoding."


def encoding_note(encoding: str) -> str:
    return (f"Read as {encoding}, not UTF-8; if accented or non-Latin letters look wrong, "
            "pick another encoding or re-save the file as UTF-8.")


def _decode_head(head: bytes, encoding: str) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if len(head) == SAMPLE_BYTES:
        text = text[:text.rfind("\n") + 1]  # drop the cut-off last line
    return text.lstrip("\ufeff")


def _sample_rows(text: str, delimiter: str, quoting=csv.QUOTE_MINIMAL, limit=500) -> list[list[str]]:
    rows = []
    try:
        for row in csv.reader(io.StringIO(text[:400_000]), delimiter=delimiter, quoting=quoting):
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass  # a broken quote late in the sample; judge on the rows so far
    return rows


def _sniff_delimiter(text: str, suffix: str) -> str:
    """The candidate that splits the most rows into the same number (2 or more) of fields."""
    order = ["\t", ",", ";", "|"] if suffix == ".tsv" else [",", "\t", ";", "|"]
    best, best_key = order[0], None
    for rank, delimiter in enumerate(order):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            widths = [len(row) for row in _sample_rows(text, delimiter, quoting, limit=200)]
            if not widths:
                continue
            width, hits = Counter(widths).most_common(1)[0]
            key = (int(20 * hits / len(widths)), -rank)  # consistency in 5% steps, then the usual order
            if width >= 2 and (best_key is None or key > best_key):
                best, best_key = delimiter, key
    return best


def _is_number(value: str) -> bool:
    return re.fullmatch(NUMBER, value) is not None


def _looks_like_header(rows: list[list[str]]) -> bool:
    """Vote per column: a first value that repeats below, or a number, is data; a known or short name is a header."""
    first, rest = rows[0], rows[1:]
    if not rest:
        return True
    votes = 0
    for j, cell in enumerate(first):
        cell = cell.strip().lstrip("\ufeff")
        column = [r[j].strip() for r in rest if j < len(r) and r[j].strip()]
        if not cell or not column:
            continue
        numeric = sum(map(_is_number, column)) / len(column)
        mean_len = sum(map(len, column)) / len(column)
        if cell in column:
            votes -= 2  # column names do not reappear as values; labels do
        elif _norm_name(cell) in TEXT_NAMES + LABEL_NAMES + OTHER_NAMES:
            votes += 2
        elif _is_number(cell):
            votes -= 1
        elif numeric >= 0.9:
            votes += 1  # a word on top of a column of numbers
        elif mean_len >= 20 and len(cell) >= 0.7 * mean_len:
            votes -= 1  # as long as the free text below it
        elif mean_len >= 20 and len(cell.split()) <= 3:
            votes += 1
    return votes >= 0


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _read_delimited(path, encoding, head_text, delimiter, has_header, suffix) -> Table:
    if delimiter:
        delimiter = DELIMITER_WORDS.get(str(delimiter).lower(), delimiter)
        if len(delimiter) != 1:
            raise DataError(f"The delimiter must be one character such as , ; | or tab, not {delimiter!r}.")
    else:
        delimiter = _sniff_delimiter(head_text, suffix)
    rows = _sample_rows(head_text, delimiter)
    if not rows:
        raise DataError(f"{os.path.basename(path)} holds no rows of data; export the table again.")
    notes = []
    if has_header is None:
        has_header = _looks_like_header(rows)
        if not has_header:
            notes.append("The first row looks like data rather than column names, "
                         "so the columns are named column_1, column_2, ...")
    width = max(len(r) for r in rows)
    try:
        frame = _parse(path, encoding, delimiter, csv.QUOTE_MINIMAL, width)
    except _OpenQuote:
        if delimiter != "\t":
            raise
        frame = None
    if delimiter == "\t" and (frame is None or _quotes_swallowed(frame)):
        # a TSV without quoting (like GLUE's): a quote mark opening a field swallows the lines after it
        plain = _parse(path, encoding, delimiter, csv.QUOTE_NONE, width)
        if frame is None or (len(plain) > len(frame) and plain.isna().sum().sum() <= frame.isna().sum().sum()):
            frame = plain
            notes.append("Quote marks were read as ordinary characters, because the file does not use quoting.")
    frame, header = _take_header(frame, has_header)
    frame, more = _tidy(frame, header, delimiter)
    return Table(frame, path, encoding, delimiter, has_header, notes + more)


class _OpenQuote(DataError):
    """A quoted field runs to the end of the file."""


def _parse(path, encoding, delimiter, quoting, width) -> pd.DataFrame:
    """pandas' C parser, every value a str; more columns whenever a row has more fields than expected."""
    names = [f"column_{i + 1}" for i in range(width)]
    for _ in range(50):
        try:
            return pd.read_csv(path, sep=delimiter, encoding=encoding, quoting=quoting, header=None, names=names,
                               index_col=False, dtype=object, keep_default_na=False, na_values=[""],
                               skip_blank_lines=True, engine="c")
        except UnicodeDecodeError:
            raise _BadBytes() from None
        except pd.errors.ParserError as e:
            wider = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(e))
            quote = re.search(r"EOF inside string starting at row (\d+)", str(e))
            if wider:
                names += [f"column_{i + 1}" for i in range(len(names), int(wider.group(1)))]
            elif quote:
                raise _OpenQuote(f"A quote mark opened near line {int(quote.group(1)) + 1} is never closed; "
                                "fix that row or export the file again from your spreadsheet program.") from None
            else:
                raise DataError(f"The file could not be read as a {DELIMITERS.get(delimiter, repr(delimiter))}-"
                                f"separated table ({str(e).strip()}); check that it is a plain CSV export.") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{os.path.basename(path)} holds no rows of data; export the table again.") from None
    raise DataError("Rows of the file have wildly different numbers of fields; check the delimiter.")


def _quotes_swallowed(frame: pd.DataFrame) -> bool:
    return any(frame[c].str.contains("[\n\t]", regex=True, na=False).any() for c in frame.columns)


def _take_header(frame: pd.DataFrame, has_header: bool):
    """Column names from the first row (or column_1, column_2, ...); the names the file left empty stay None."""
    if has_header:
        header = [None if pd.isna(v) else str(v).strip().lstrip("\ufeff").strip() or None for v in frame.iloc[0]]
        frame = frame.iloc[1:].reset_index(drop=True)
    else:
        header = [None] * frame.shape[1]
    if not len(frame):
        raise DataError("The file has column names but no rows of data; add rows or check the export.")
    frame.columns = _unique_names([h or f"column_{i + 1}" for i, h in enumerate(header)])
    return frame, header


def _tidy(frame: pd.DataFrame, header: list, delimiter: str | None):
    """Join text that spilled into nameless extra columns, drop nameless empty columns, remove stray BOMs."""
    notes, names = [], list(frame.columns)
    named = [n for n, h in zip(names, header) if h]
    base = names.index(named[-1]) + 1 if named else None
    if delimiter and base and base < len(names):
        frame, spilled, into = _merge_spills(frame, base, delimiter)
        if spilled:
            notes.append(f"{spilled:,} rows had text spilling into {len(names) - base} extra columns (usually a quote "
                         f"mark that was not escaped); the pieces were joined back into '{into}' and the extra "
                         "columns dropped.")
    empty = [n for n, h in zip(names, header) if not h and n in frame and frame[n].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        notes.append(f"Dropped {len(empty)} empty column{'s' if len(empty) > 1 else ''} without a name.")
    boms = [c for c in frame.columns if frame[c].str.contains("\ufeff", regex=False, na=False).any()]
    for c in boms:
        frame[c] = frame[c].str.replace("\ufeff", "", regex=False)
    if boms:
        notes.append("Removed stray byte-order marks (invisible \\ufeff characters) from the values.")
    return frame, notes


def _unique_names(names: list[str]) -> list[str]:
    seen, out = Counter(), []
    for n in names:
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _merge_spills(frame: pd.DataFrame, base: int, delimiter: str):
    """Rows whose fields run past the named columns: the extra fields belong to the text, split at its delimiters."""
    extra = frame.columns[base:]
    spilled = frame[extra].notna().any(axis=1)
    n = int(spilled.sum())
    if n == 0 or n >= 0.5 * len(frame):
        return frame, 0, None  # none, or so many that the extra columns are real data
    sample = frame.loc[~spilled, frame.columns[:base]].head(2000)
    lengths = [sample[c].dropna().str.len().mean() for c in sample.columns]
    t = int(np.nanargmax(lengths)) if not np.all(np.isnan(lengths)) else base - 1  # the text column
    for i in np.flatnonzero(spilled.to_numpy()):
        fields = frame.iloc[i].tolist()
        last = max(j for j, v in enumerate(fields) if not pd.isna(v))
        k = last - base + 1  # fields beyond the named columns
        text = delimiter.join("" if pd.isna(v) else v for v in fields[t:t + k + 1])
        frame.iloc[i, :base] = fields[:t] + [text] + fields[t + k + 1:last + 1]
    return frame.drop(columns=extra), n, frame.columns[t]


def _cell_str(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v if isinstance(v, str) else str(v)


def _read_xlsx(path, has_header) -> Table:
    name = os.path.basename(path)
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
        sheet = book.sheet_names[0]
        raw = book.parse(sheet, header=None, dtype=object)
    except Exception as e:  # openpyxl raises many kinds for a damaged workbook
        raise DataError(f"The Excel file {name} is damaged or incomplete ({type(e).__name__}); "
                        "open it in Excel and save it again, or export it as CSV.") from None
    raw = raw.dropna(how="all").dropna(axis=1, how="all").reset_index(drop=True)
    if raw.empty:
        raise DataError(f"The first sheet of {name} ('{sheet}') is empty; put the table on the first sheet.")
    frame = raw.map(_cell_str).astype(object)
    notes = []
    if len(book.sheet_names) > 1:
        notes.append(f"The workbook has {len(book.sheet_names)} sheets; only the first, '{sheet}', was read.")
    if has_header is None:
        rows = [["" if pd.isna(v) else v for v in row] for row in frame.head(500).itertuples(index=False)]
        has_header = _looks_like_header(rows)
        if not has_header:
            notes.append("The first row looks like data rather than column names, "
                         "so the columns are named column_1, column_2, ...")
    frame, header = _take_header(frame, has_header)
    frame, more = _tidy(frame, header, None)
    return Table(frame, path, None, None, has_header, notes + more)


def _read_json(path, encoding) -> Table:
    name = os.path.basename(path)
    with open(path, encoding=encoding, errors="replace") as f:
        start = f.read(4096).lstrip("\ufeff \r\n\t")[:1]
    try:
        frame = pd.read_json(path, lines=start != "[", encoding=encoding, dtype=False,
                             convert_dates=False, keep_default_dates=False)
    except UnicodeDecodeError:
        raise _BadBytes() from None
    except ValueError:
        raise DataError(f"{name} is not valid JSON lines (one JSON object per line); "
                        "check the file or save the table as CSV.") from None
    if frame.empty:
        raise DataError(f"{name} holds no rows of data; export the table again.")
    frame = frame.map(_cell_str).astype(object)
    frame.columns = [str(c) for c in frame.columns]
    frame, notes = _tidy(frame, list(frame.columns), None)
    return Table(frame, path, encoding, None, True, notes)


def _mb(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


# ----------------------------------------------------------------------------- columns

def _column_stats(column: pd.Series) -> dict:
    values = column.dropna()
    if len(values) > 20_000:
        values = values.sample(20_000, random_state=0)
    values = values.astype(str).str.strip()
    values = values[values != ""]
    n = len(values)
    if n == 0:
        return dict(n=0)
    unique = values.nunique()
    integer = values.str.fullmatch(r"[-+]?\d+").mean()
    lengths = values.str.len()
    no_space = not values.str.contains(r"\s", regex=True).any()
    return dict(n=n, unique=unique, ratio=unique / n, mean_len=lengths.mean(),
                numeric=values.str.fullmatch(NUMBER).mean(),
                # ids: every value different, and all integers or same-length codes with no spaces
                is_id=unique == n and n >= 5 and (integer == 1 or (no_space and lengths.max() - lengths.min() <= 2)))


def _pick_label(frame: pd.DataFrame, stats: dict, exclude=()) -> str:
    candidates = []
    for c in frame.columns:
        s, name = stats[c], _norm_name(c)
        if c in exclude or s["n"] == 0:
            continue
        if name in LABEL_NAMES and s["mean_len"] <= 100:
            candidates.append((0, LABEL_NAMES.index(name), 0, c))
        elif (name not in TEXT_NAMES and not s["is_id"] and s["mean_len"] <= 60
              and 2 <= s["unique"] <= 200 and s["ratio"] <= 0.5):
            candidates.append((1, 0, s["ratio"], c))  # few distinct values, each repeated
    if not candidates:
        raise DataError(f"No column looks like labels (a short value repeated across rows) among "
                        f"{_list_columns(frame)}; choose the label column yourself.", code="no_label_column")
    return min(candidates, key=lambda x: x[:3])[3]


def _pick_text(frame: pd.DataFrame, stats: dict, exclude=()) -> str:
    candidates = []
    for c in frame.columns:
        s, name = stats[c], _norm_name(c)
        bonus = name in TEXT_NAMES and name not in LABEL_NAMES
        if c in exclude or s["n"] == 0 or (s["is_id"] and not bonus) or s["numeric"] > 0.5:
            continue
        candidates.append((bonus, s["mean_len"] * s["ratio"], c))  # long and varied
    if not candidates:
        raise DataError(f"No column looks like free text among {_list_columns(frame)}; "
                        "choose the text column yourself.", code="no_text_column")
    return max(candidates, key=lambda x: x[:2])[2]


def _list_columns(frame) -> str:
    return ", ".join(f"'{c}'" for c in frame.columns)


def choose_columns(frame: pd.DataFrame, text_column=None, label_column=None) -> tuple[str, str]:
    """The columns the caller named (checked), and a guess for those not named."""
    for column, kind in ((text_column, "text"), (label_column, "label")):
        if column is not None and column not in frame.columns:
            raise DataError(f"There is no column '{column}'; the columns are {_list_columns(frame)}.",
                            code=f"no_{kind}_column")
    if text_column and label_column:
        return text_column, label_column
    if frame.shape[1] < 2:
        raise DataError(f"The table has only one column ({_list_columns(frame)}); it needs a column of texts "
                        "and a column of labels - check the delimiter or add the labels.", code="no_label_column")
    stats = {c: _column_stats(frame[c]) for c in frame.columns}
    if label_column is None:
        label_column = _pick_label(frame, stats, exclude=[text_column])
    if text_column is None:
        text_column = _pick_text(frame, stats, exclude=[label_column])
    return text_column, label_column


def detect_columns(frame: pd.DataFrame) -> tuple[str, str]:
    return choose_columns(frame)


# ----------------------------------------------------------------------------- examples

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


def _as_text(column: pd.Series) -> pd.Series:
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
    texts, labels = _as_text(frame[text_column]), _as_text(frame[label_column])  # texts stay exact
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


# ----------------------------------------------------------------------------- the data doctor

@dataclass
class Finding:
    severity: str   # "error" (training cannot work), "warning" (will hurt), "info"
    code: str       # stable snake_case id
    message: str    # one plain sentence with numbers and what to do
    details: dict = field(default_factory=dict)


@dataclass
class Report:
    path: str
    rows: int
    columns: list[str]
    text_column: str | None
    label_column: str | None
    encoding: str | None
    delimiter: str | None
    label_counts: dict[str, int]
    findings: list[Finding]
    token_lengths: dict | None = None

    def to_dict(self) -> dict:
        return dict(rows=self.rows, columns=list(self.columns), text_column=self.text_column,
                    label_column=self.label_column, encoding=self.encoding, delimiter=self.delimiter,
                    label_counts=dict(self.label_counts),
                    findings=[dict(severity=f.severity, code=f.code, message=f.message) for f in self.findings],
                    token_lengths=self.token_lengths)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def get(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)


def _names(items, limit=5) -> str:
    items = [f'"{x}"' for x in items]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def inspect(path_or_table, text_column=None, label_column=None, tokenizer=None, max_length=128,
            test=None, encoding=None) -> Report:
    """The data doctor: what will go wrong when training on this file, and what to do. Never raises for a bad file."""
    path = path_or_table.path if isinstance(path_or_table, Table) else str(path_or_table)
    try:
        table = path_or_table if isinstance(path_or_table, Table) else read_table(path, encoding=encoding)
    except Exception as e:  # a DataError says why; anything else still becomes a finding, not a traceback
        message = str(e) if isinstance(e, DataError) else (
            f"The file could not be read ({e}); check that it is a CSV, TSV, Excel or JSON lines file.")
        return Report(path, 0, [], None, None, None, None, {}, [Finding("error", "unreadable", message)])
    frame = table.frame
    report = Report(path, len(frame), [str(c) for c in frame.columns], None, None, table.encoding,
                    table.delimiter, {}, [])

    def add(severity, code, message, **details):
        report.findings.append(Finding(severity, code, message, details))

    if table.encoding and table.encoding not in ("utf-8", "utf-8-sig", "ascii"):
        add("info", "encoding", encoding_note(table.encoding), encoding=table.encoding)
    for note in table.notes:
        if note != encoding_note(table.encoding or ""):
            add("info", "read_note", note)
    try:
        text_column, label_column = choose_columns(frame, text_column, label_column)
    except DataError as e:
        add("error", e.code or "no_label_column", str(e))
        return report
    report.text_column, report.label_column = text_column, label_column
    examples = load_examples(table, text_column, label_column)

    skipped = len(frame) - len(examples)
    if not len(examples):
        add("error", "empty_text", f"No row has both a text in '{text_column}' and a label in '{label_column}'; "
                                   "check that these are the right columns.", rows=skipped)
        return report
    if skipped:
        add("warning", "empty_text", f"{skipped:,} rows have an empty text or label; they will be skipped.",
            rows=skipped)

    counts = Counter(examples.labels)
    report.label_counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    data = pd.DataFrame({"text": examples.texts, "label": examples.labels}, dtype=object)
    _check_duplicates(data, add)
    _check_labels(counts, add)
    if tokenizer is not None:
        report.token_lengths = _check_tokens(examples.texts, tokenizer, max_length, add)
    if test is not None:
        _check_overlap(data, test, text_column, add)
    return report


def _check_duplicates(data: pd.DataFrame, add):
    repeats = int(data["text"].duplicated().sum())  # rows that repeat an earlier row's text
    if repeats:
        add("warning", "duplicates", f"{repeats:,} rows repeat the text of an earlier row exactly; duplicates can "
                                     "land in both training and test and inflate the scores - consider removing them.",
            rows=repeats)
    shared = data[data["text"].duplicated(keep=False)]
    per_text = shared.groupby("text", sort=False)["label"].unique()
    conflicts = per_text[per_text.map(len) > 1]
    if len(conflicts):
        text, labels = conflicts.index[0].strip(), sorted(conflicts.iloc[0])
        example = text if len(text) <= 60 else text[:57] + "..."
        add("warning", "conflicting_labels",
            f'{len(conflicts):,} texts appear with different labels (e.g. "{example}" as {_names(labels)}); '
            "the model cannot learn both - fix or remove them.", texts=len(conflicts))


def _check_labels(counts: Counter, add):
    groups = {}
    for label in counts:
        groups.setdefault(re.sub(r"\s+", " ", label.casefold()), []).append(label)
    variants = [sorted(g) for g in groups.values() if len(g) > 1]
    if variants:
        add("warning", "label_variants",
            f"The labels {_names(variants[0])} differ only in capitals or spacing ({len(variants)} such group"
            f"{'s' if len(variants) > 1 else ''}); they will be treated as different classes unless you merge them.",
            groups=variants)
    if len(counts) == 1:
        add("error", "single_class", f'Every row has the label "{next(iter(counts))}"; '
                                     "training needs at least two labels - add examples of another class.")
        return
    small = sorted((y for y, n in counts.items() if n < MIN_PER_CLASS), key=lambda y: (counts[y], y))
    if small:
        severity = "error" if len(small) == len(counts) else "warning"
        listed = ", ".join(f'"{y}" ({counts[y]})' for y in small[:5]) + (
            f" and {len(small) - 5} more" if len(small) > 5 else "")
        add(severity, "too_few_examples",
            f"{len(small)} class{'es have' if len(small) > 1 else ' has'} fewer than {MIN_PER_CLASS} examples "
            f"({listed}), too few to split into training, validation and test; add examples or merge them.",
            classes=small)
    big, n_big = max(counts.items(), key=lambda kv: kv[1])
    tiny, n_tiny = min(counts.items(), key=lambda kv: kv[1])
    ratio = n_big / n_tiny
    if ratio >= 3:
        add("warning" if ratio >= 10 else "info", "imbalance",
            f'The largest class ("{big}", {n_big:,} rows) is {ratio:.1f} times the smallest ("{tiny}", {n_tiny:,}); '
            "turn on class weights or add examples of the small classes.", largest=n_big, smallest=n_tiny,
            ratio=round(ratio, 2))


def _check_tokens(texts: list[str], tokenizer, max_length: int, add) -> dict:
    sample = texts if len(texts) <= MAX_TOKENIZED else random.Random(0).sample(texts, MAX_TOKENIZED)
    ids = tokenizer(sample, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    lengths = np.array([len(x) for x in ids]) + tokenizer.num_special_tokens_to_add(pair=False)
    p50, p90, p95, p99 = (int(round(v)) for v in np.percentile(lengths, [50, 90, 95, 99]))
    over = int((lengths > max_length).sum())
    share = over / len(lengths)
    stats = dict(p50=p50, p90=p90, p95=p95, p99=p99, max=int(lengths.max()), over_max_length=over,
                 share_over=round(share, 4), sampled=len(sample))
    if over:
        add("warning" if share > 0.05 else "info", "too_long",
            f"{share:.1%} of texts are longer than {max_length} tokens (95% are within {p95}) and will be cut; "
            f"raise the max length if the end of a text matters.", share=share, p95=p95)
    unk = tokenizer.unk_token_id
    total = int(sum(len(x) for x in ids))
    if unk is not None and total:
        unknown = sum(x.count(unk) for x in ids) / total
        if unknown > 0.05:
            chars = "".join(sample[:2000])
            cjk = len(CJK.findall(chars)) > 0.3 * len(re.sub(r"\s", "", chars))
            advice = ("pick a Chinese or multilingual model such as bert-base-chinese or xlm-roberta-base"
                      if cjk else "pick a multilingual model such as xlm-roberta-base or a model for this language")
            add("warning", "unknown_tokens", f"The model's vocabulary maps {unknown:.0%} of the tokens to [UNK] "
                                             f"(unknown), so it can learn little from this text; {advice}.",
                share=round(unknown, 4), cjk=cjk)
    return stats


def _check_overlap(data: pd.DataFrame, test, text_column: str, add):
    try:
        table = test if isinstance(test, Table) else read_table(test)
        column = text_column if text_column in table.frame.columns else choose_columns(table.frame)[0]
    except Exception as e:
        add("error", "unreadable", f"The test file could not be used: {e}")
        return
    texts = _as_text(table.frame[column]).dropna()
    shared = int(texts.isin(set(data["text"])).sum())
    if shared:
        add("warning", "test_overlap", f"{shared:,} of the {len(texts):,} texts in the test file also appear in the "
                                       "training data, so test scores will look better than they are; "
                                       "remove them from one of the files.", texts=shared)


# ----------------------------------------------------------------------------- splits

@dataclass
class Splits:
    train: Examples
    validation: Examples
    test: Examples
    labels: list[str]   # all class names, sorted (numerically when all are integers)
    description: str    # one sentence, e.g. "7,002 rows for training, 1,500 for validation, 1,501 for testing (...)."


SPLIT_NAMES = {"train": "train", "training": "train", "validation": "validation", "val": "validation",
               "valid": "validation", "dev": "validation", "eval": "validation", "test": "test", "testing": "test"}


def _carve(examples: Examples, fraction: float, seed: int) -> tuple[Examples, Examples, bool]:
    """Take `fraction` of the rows out, stratified by label; classes too small to split stay behind."""
    from sklearn.model_selection import train_test_split
    counts = Counter(examples.labels)
    splittable = [i for i, y in enumerate(examples.labels) if counts[y] >= MIN_PER_CLASS]
    small = [i for i, y in enumerate(examples.labels) if counts[y] < MIN_PER_CLASS]
    n_take = min(round(fraction * len(examples)), len(splittable) - 1)
    if n_take < 1:
        return examples, examples.take([]), True
    try:
        keep, taken = train_test_split(splittable, test_size=n_take, random_state=seed,
                                       stratify=[examples.labels[i] for i in splittable])
        return examples.take(sorted(keep + small)), examples.take(sorted(taken)), True
    except ValueError:  # more classes than rows to take: one row from each of n_take random classes instead
        rng, by_class = random.Random(seed), {}
        for i in splittable:
            by_class.setdefault(examples.labels[i], []).append(i)
        classes = sorted(by_class)
        rng.shuffle(classes)
        taken = {rng.choice(by_class[y]) for y in classes[:n_take]}
        keep = [i for i in range(len(examples)) if i not in taken]
        return examples.take(keep), examples.take(sorted(taken)), False


def partition_by_split(examples: Examples, split_values: list) -> dict[str, Examples]:
    """{"train", "validation", "test"} from one value per example naming its split (train, val, dev, eval, test...)."""
    if len(split_values) != len(examples):
        raise DataError(f"The split column has {len(split_values):,} values for {len(examples):,} rows; "
                        "give one split value per row.")
    kinds = [SPLIT_NAMES.get(str(v).strip().lower()) for v in split_values]
    unknown = sorted({str(v) for v, k in zip(split_values, kinds) if k is None})
    if unknown:
        raise DataError(f"The split column holds {_names(unknown)}; use train, validation (or val, dev) or test.")
    part = {k: examples.take([i for i, kind in enumerate(kinds) if kind == k]) for k in SPLIT_NAMES.values()}
    if not len(part["train"]):
        raise DataError("No row of the split column says train; mark the rows to learn from as train.")
    return part


def split_values_of(table: Table, column: str, examples: Examples) -> list:
    """The split column's value for each example (examples skip rows without text or label)."""
    if column not in table.frame.columns:
        raise DataError(f"There is no column called {column!r} to split by; the columns are {_list_columns(table.frame)}.")
    return table.frame[column].iloc[examples.rows].tolist()


def make_splits(examples: Examples, validation: Examples | None = None, test: Examples | None = None,
                split_values: list[str] | None = None, val_fraction=0.15, test_fraction=0.15, seed=42) -> Splits:
    source = {"validation": "from the validation file", "test": "from the test file"}
    train = examples
    if split_values is not None:
        part = partition_by_split(examples, split_values)
        train = part["train"]
        if validation is None and len(part["validation"]):
            validation, source["validation"] = part["validation"], "from the split column"
        if test is None and len(part["test"]):
            test, source["test"] = part["test"], "from the split column"
    everything = train.labels + (validation.labels if validation else []) + (test.labels if test else [])
    if not everything:
        raise DataError("There are no examples with both a text and a label to train on; check the columns.")
    if len(set(everything)) < 2:
        raise DataError(f'Training needs at least two labels, but every example is labelled "{everything[0]}"; '
                        "add examples of another class.")
    stratified, carved = True, []
    if test is None:
        train, test, ok = _carve(train, test_fraction, seed)
        stratified, carved = stratified and ok, carved + ["test"]
    if validation is None:
        share = val_fraction / (1 - test_fraction) if "test" in carved else val_fraction
        train, validation, ok = _carve(train, share, seed)
        stratified, carved = stratified and ok, carved + ["validation"]
    labels = sort_labels(train.labels)
    unseen = sort_labels(set(validation.labels + test.labels) - set(labels))
    if unseen:
        raise DataError(f"The labels {_names(unseen)} appear in validation or test data but never in training; "
                        "add training examples for them or remove those rows.")
    how = "stratified" if stratified else "random"
    if carved == ["test", "validation"]:
        shares = f"{100 * (1 - val_fraction - test_fraction):.0f}/{100 * val_fraction:.0f}/{100 * test_fraction:.0f}"
        description = (f"{len(train):,} rows for training, {len(validation):,} for validation, "
                       f"{len(test):,} for testing ({how} {shares}, seed {seed}).")
    else:
        for k in carved:
            source[k] = f"carved out of training, {how}, seed {seed}"
        description = (f"{len(train):,} rows for training, {len(validation):,} for validation "
                       f"({source['validation']}), {len(test):,} for testing ({source['test']}).")
    return Splits(train, validation, test, labels, description)


def stratified_sample(examples: Examples, n: int, seed=42) -> Examples:
    """n examples in the same class proportions, with every class present where n allows (for --max-rows)."""
    from sklearn.model_selection import train_test_split
    if n >= len(examples):
        return examples
    rng = random.Random(seed)
    by_class = {}
    for i, y in enumerate(examples.labels):
        by_class.setdefault(y, []).append(i)
    firsts = [rng.choice(idx) for idx in by_class.values()]  # one of each class first
    if len(firsts) >= n:
        return examples.take(sorted(rng.sample(firsts, n)))
    chosen = set(firsts)
    rest = [i for i in range(len(examples)) if i not in chosen]
    try:
        more, _ = train_test_split(rest, train_size=n - len(firsts), random_state=seed,
                                   stratify=[examples.labels[i] for i in rest])
    except ValueError:  # some class too small to stratify
        more = rng.sample(rest, n - len(firsts))
    return examples.take(sorted(firsts + list(more)))
