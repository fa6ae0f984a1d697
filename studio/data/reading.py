"""Reading a user's table: CSV / TSV / TXT (encoding, delimiter and header sniffed), XLSX, JSON and JSON lines,
a zip archive holding one of these.

read_table returns a Table whose values are all str; every problem is a DataError with one plain sentence. The work
a file can cause is bounded before it is parsed (limits.py), so read_table is safe to run for any upload.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..security import describe_size
from . import limits
from .columns import LABEL_NAMES, OTHER_NAMES, TEXT_NAMES, is_number, norm_name
from .errors import DataError
from .kinds import TABLE_SUFFIXES, check_file_kind

DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
SAMPLE_BYTES = 1 << 20      # encoding and delimiter are judged on this much of the file's start ...
PROBE_BYTES = 1 << 18       # ... plus this much from its middle and its end


@dataclass
class Table:
    frame: pd.DataFrame   # every column as read, values as str (object dtype; missing = None/NaN), column names as str
    path: str
    encoding: str | None  # python codec name used to read the file; None for xlsx
    delimiter: str | None  # ',', '\t', ';', '|'; None for xlsx / jsonl
    has_header: bool
    notes: list[str] = field(default_factory=list)  # plain sentences about what reading had to work around

    def copy(self, path: str | None = None) -> "Table":
        """A copy whose frame and notes the caller may change without touching this one (the frame's data is shared
        until written: pandas copies on write)."""
        return dataclasses.replace(self, frame=self.frame.copy(deep=False), notes=list(self.notes),
                                   path=self.path if path is None else path)


def read_table(path, encoding=None, delimiter=None, has_header=None, max_bytes=None) -> Table:
    """The file as a Table. Repeat reads of the same unchanged file with the same options come from a small cache.

    Bounded work for any file, plain values in and out (picklable, DataError included), no shared state but the
    locked cache: safe to run in a worker thread or process, off the path of other requests.
    """
    path = str(path)
    size = _checked_file(path, max_bytes)
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino, encoding, delimiter, has_header)
    table = _CACHE.get(key)
    if table is None:
        table = _read(path, size, encoding, delimiter, has_header)
        _CACHE.put(key, table, size)
    return table.copy(path)


def _checked_file(path: str, max_bytes=None) -> int:
    """The file's size in bytes, or a DataError for a missing, empty or too large file or a folder."""
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise DataError(f"There is no file at {path}; check the name and folder.", code="missing_file", path=path)
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder, not a file; pick the CSV or Excel file inside it.", code="not_a_file", path=path)
    size = os.path.getsize(path)
    if size == 0:
        raise DataError(f"The file {name} is empty; export the table again.", code="empty_file", name=name)
    if max_bytes and size > max_bytes:
        raise DataError(f"The file {name} is {describe_size(size)}, over the {describe_size(max_bytes)} limit; "
                        "upload a smaller file or a sample of the rows.", code="too_large", variant="file", name=name,
                        size=describe_size(size), limit=describe_size(max_bytes))
    return size


class _TableCache:
    """The last few tables read, keyed by the file's identity (path, size, mtime, inode) and the reading options.

    The Data tab's analysis, its split preview and training each read the training file; only the first parses it.
    """

    def __init__(self, max_tables: int, max_bytes: int):
        self.max_tables, self.max_bytes = max_tables, max_bytes
        self._tables: OrderedDict[tuple, tuple[Table, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Table | None:
        with self._lock:
            if key not in self._tables:
                return None
            self._tables.move_to_end(key)
            return self._tables[key][0]

    def put(self, key, table: Table, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            self._tables[key] = (table, size)
            while len(self._tables) > self.max_tables or sum(s for _, s in self._tables.values()) > self.max_bytes:
                self._tables.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


# Counted by file size; a table in memory takes 2-3 times its file (measured: sst2's train.tsv 3.8 MB -> 11.4 MB).
_CACHE = _TableCache(max_tables=4, max_bytes=64 << 20)


def _read(path: str, size: int, encoding, delimiter, has_header) -> Table:
    name, suffix = os.path.basename(path), Path(path).suffix.lower()
    samples = _byte_samples(path, size)
    head = samples[0]
    if head.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise DataError(f"{name} is an old-style Excel .xls file; save it as .xlsx or CSV and upload that.", code="old_excel", name=name)
    check_file_kind(path)
    if head.startswith(b"PK\x03\x04") and not _is_workbook(path):
        return _read_zipped(path, encoding, delimiter, has_header)
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
            raise _wrong_encoding(encoding, samples) from None
        encoding = _detect_encoding(samples, name)
        try:
            table = _read_text(path, encoding, head, delimiter, has_header, suffix)
        except _BadBytes:
            raise DataError(f"{name} mixes text encodings (its rows do not all decode as {encoding}); "
                            "open it in a spreadsheet program and save it again as UTF-8.", code="mixed_encodings", name=name,
                            encoding=encoding) from None
    if guessed and (not encoding.startswith("utf-") or "+" in encoding):
        table.notes.insert(0, encoding_note(encoding))
    return table


def _is_workbook(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except zipfile.BadZipFile:
        return True  # a damaged workbook: the workbook reader says so
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _read_zipped(path: str, encoding, delimiter, has_header) -> Table:
    """The one table inside a zip archive, read as if it had been uploaded itself."""
    name = os.path.basename(path)
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
                   and not os.path.basename(m.filename).startswith(".")
                   and Path(m.filename).suffix.lower() in TABLE_SUFFIXES]
        if len(members) != 1:
            inside = (f"holding {len(members)} tables ({', '.join(os.path.basename(m.filename) for m in members[:5])})"
                      if members else "with no CSV, TSV, Excel or JSON file inside")
            raise DataError(f"{name} is a zip archive {inside}; unzip it and upload the table to train on.",
                            code="zip_archive", name=name, tables=[os.path.basename(m.filename) for m in members])
        member = members[0]
        if member.file_size > limits.MAX_UNZIPPED_BYTES:
            raise DataError(f"{os.path.basename(member.filename)} in {name} unzips to {describe_size(member.file_size)}, "
                            f"more than the {describe_size(limits.MAX_UNZIPPED_BYTES)} the studio reads; "
                            "use a sample of the rows.", code="too_large", variant="unzipped",
                            name=os.path.basename(member.filename), size=describe_size(member.file_size),
                            limit=describe_size(limits.MAX_UNZIPPED_BYTES))
        with tempfile.TemporaryDirectory(prefix="studio-unzip-") as folder:
            inner = os.path.join(folder, os.path.basename(member.filename))
            with z.open(member) as source, open(inner, "wb") as target:
                shutil.copyfileobj(source, target)
            size = _checked_file(inner)
            with open(inner, "rb") as f:
                if f.read(4) == b"PK\x03\x04" and not _is_workbook(inner):
                    raise DataError(f"{name} holds another zip archive; unzip both and upload the table inside.",
                                    code="zip_archive", variant="nested", name=name)
            table = _read(inner, size, encoding, delimiter, has_header)
    table.path = path
    table.notes.insert(0, f"Read {os.path.basename(member.filename)} from inside the zip archive {name}.")
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
    if b"\x00" in head and (wide := _utf16_without_bom(head)):
        return wide
    if b"\x00" not in head and (mixed := _mixed_encoding(samples)):
        return mixed
    encoding = _guess_legacy(samples)
    if encoding is None or (b"\x00" in head and not encoding.startswith("utf-")):
        raise DataError(f"{name} is not a text table (it holds binary data); "
                        "upload a CSV, TSV, Excel (.xlsx) or JSON lines file.", code="binary_file", name=name)
    return encoding


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le or utf-16-be for UTF-16 text without a byte-order mark: the zero high bytes of its ASCII characters
    (delimiters, line breaks, digits) fall on odd positions in little-endian text, on even ones in big-endian."""
    head = head[:len(head) // 2 * 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= len(head) // 20 and zeros > 4 * other and _decodes(head, encoding):
            return encoding
    return None


def _mixed_encoding(samples: list[bytes]) -> str | None:
    """"utf-8+cp1252" when some lines are UTF-8 and others a single-byte code page (rows pasted together from two
    exports): each line is then decoded as what it is, instead of turning the UTF-8 ones into mojibake."""
    lines = [line for s in samples for line in s.split(b"\n") if max(line, default=0) > 127]
    bad = [line for line in lines if not _decodes(line, "utf-8")]
    # a line of cp1252 is valid UTF-8 now and then by chance (one in 483 in the spam export): ask for a few more
    if not bad or len(lines) - len(bad) < max(2, len(lines) // 50):
        return None
    legacy = _guess_legacy([b"\n".join(bad)])
    if legacy is None or not _single_byte(legacy):
        return None
    return f"utf-8+{legacy}"


def _single_byte(encoding: str) -> bool:
    try:
        return len(bytes(range(256)).decode(encoding, errors="replace")) == 256
    except LookupError:
        return False


def _mixed_codec(name: str):
    """The codec behind "utf-8+cp1252" (and other code pages): UTF-8, with each byte that is not UTF-8 decoded
    as the code page. Registered with codecs, so open(), pandas and the checks all read the file the same way."""
    match = re.fullmatch(r"utf_8_(.+)", name)
    if not match or not _single_byte(match.group(1).replace("_", "-")):
        return None
    legacy = _codec_name(match.group(1).replace("_", "-"))
    handler = f"studio-{legacy}"
    codecs.register_error(handler, lambda e: (e.object[e.start:e.end].decode(legacy, errors="replace"), e.end))

    class Decoder(codecs.BufferedIncrementalDecoder):
        def _buffer_decode(self, data, errors, final):
            return codecs.utf_8_decode(data, handler, final)

    return codecs.CodecInfo(name=f"utf-8+{legacy}", encode=codecs.utf_8_encode,
                            decode=lambda data, errors="strict": codecs.utf_8_decode(data, handler, True),
                            incrementalencoder=codecs.getincrementalencoder("utf-8"), incrementaldecoder=Decoder,
                            streamreader=codecs.getreader("utf-8"), streamwriter=codecs.getwriter("utf-8"))


codecs.register(_mixed_codec)


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
    if _single_byte(best.encoding) and any("cp1252" in (m.encoding, *m.could_be_from_charset) for m in matches):
        return "cp1252"
    return _codec_name(best.encoding)


def _codec_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name in ("gbk", "gb2312", "hz"):
        return "gb18030"  # the superset; Chinese Excel exports are one of these
    return {"iso8859-1": "latin-1"}.get(name, name)


def _checked_encoding(encoding: str, samples: list[bytes]) -> str:
    try:
        encoding = _codec_name(encoding)
    except LookupError:
        raise DataError(f"'{encoding}' is not an encoding name Python knows; try utf-8, cp1252 or gb18030.",
                        code="unknown_encoding", encoding=encoding) from None
    if not all(_decodes(s, encoding) for s in samples[:1 if encoding.startswith("utf-16") else None]):
        raise _wrong_encoding(encoding, samples)
    return encoding


def _wrong_encoding(encoding: str, samples: list[bytes]) -> DataError:
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding
    try:
        actual = _detect_encoding(samples)
    except DataError:
        return DataError(f"The file is not {shown} text; check that it is a CSV or text export.",
                         code="wrong_encoding", variant="not_text", encoding=shown)
    return DataError(f"The file is not {shown}; it decodes as {actual} - re-save it as UTF-8 or pick {actual} as the "
                     "encoding.", code="wrong_encoding", encoding=shown, actual=actual)


def encoding_note(encoding: str) -> str:
    if "+" in encoding:
        legacy = encoding.split("+", 1)[1]
        return (f"Some lines are not UTF-8; they were read as {legacy} and the rest as UTF-8 - if accented letters "
                "look wrong in some rows, re-save the file as UTF-8.")
    return (f"Read as {encoding}, not UTF-8; if accented or non-Latin letters look wrong, "
            "pick another encoding or re-save the file as UTF-8.")


def _decode_head(head: bytes, encoding: str) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # old Mac line endings
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


def _looks_like_header(rows: list[list[str]]) -> bool:
    return _header_votes(rows) >= 0


def _header_votes(rows: list[list[str]]) -> int:
    """Vote per column: a first value that repeats below, or a number, is data; a known or short name is a header."""
    first, rest = rows[0], rows[1:]
    if not rest:
        return 1
    votes = 0
    for j, cell in enumerate(first):
        cell = cell.strip().lstrip("\ufeff")
        column = [r[j].strip() for r in rest if j < len(r) and r[j].strip()]
        if not cell or not column:
            continue
        numeric = sum(map(is_number, column)) / len(column)
        mean_len = sum(map(len, column)) / len(column)
        if cell in column:
            votes -= 2  # column names do not reappear as values; labels do
        elif norm_name(cell) in TEXT_NAMES + LABEL_NAMES + OTHER_NAMES:
            votes += 2
        elif is_number(cell):
            votes -= 1
        elif numeric >= 0.9:
            votes += 1  # a word on top of a column of numbers
        elif mean_len >= 20 and len(cell) >= 0.7 * mean_len:
            votes -= 1  # as long as the free text below it
        elif mean_len >= 20 and len(cell.split()) <= 3:
            votes += 1
    return votes


def _read_delimited(path, encoding, head_text, delimiter, has_header, suffix) -> Table:
    if delimiter:
        delimiter = DELIMITER_WORDS.get(str(delimiter).lower(), delimiter)
        if len(delimiter) != 1:
            raise DataError(f"The delimiter must be one character such as , ; | or tab, not {delimiter!r}.",
                            code="bad_delimiter", delimiter=delimiter)
    else:
        delimiter = _sniff_delimiter(head_text, suffix)
    rows = _sample_rows(head_text, delimiter)
    if not rows:
        raise DataError(f"{os.path.basename(path)} holds no rows of data; export the table again.", code="no_rows",
                        name=os.path.basename(path))
    limits.check_text_shape(path, encoding, delimiter)
    notes = []
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
    return _finish_table(frame, path, encoding, delimiter, has_header, notes, rows)


def _finish_table(frame: pd.DataFrame, path, encoding, delimiter, has_header, notes: list[str],
                  sample: list[list[str]] | None = None) -> Table:
    """Title rows skipped, the header found (or taken as told), spilled text joined, empty columns dropped."""
    titles = []
    if has_header is not False:
        frame, titles = _skip_titles(frame)
    if titles:
        shown = ", ".join(f'"{t}"' for t in titles)
        notes.insert(0, f"Skipped the title row{'s' if len(titles) > 1 else ''} {shown} above the column names.")
    if has_header is None:
        rows = sample if sample and not titles else _frame_rows(frame)
        has_header = _looks_like_header(rows)
        if not has_header:
            notes.insert(len(titles) > 0, "The first row looks like data rather than column names, "
                                          "so the columns are named column_1, column_2, ...")
    frame, header = _take_header(frame, has_header)
    frame, more = _tidy(frame, header, delimiter)
    return Table(frame, path, encoding, delimiter, has_header, notes + more)


def _frame_rows(frame: pd.DataFrame, limit=500) -> list[list[str]]:
    return [["" if pd.isna(v) else str(v) for v in row] for row in frame.head(limit).itertuples(index=False)]


def _skip_titles(frame: pd.DataFrame, most=3) -> tuple[pd.DataFrame, list[str]]:
    """Leading rows with one filled cell above the real column names (a title, often merged across the columns in
    Excel), which would otherwise become the header and push the real header into the data as a row."""
    titles, start = [], 0
    filled = frame.head(most + 4).notna().sum(axis=1).tolist()
    while len(titles) < most and frame.shape[1] >= 2 and start + 1 < len(filled) and filled[start] == 1:
        below = start + 1
        while below < len(filled) and filled[below] == 0:
            below += 1
        if below >= len(filled) or filled[below] < 2 or _header_votes(_frame_rows(frame.iloc[below:])) <= 0:
            break
        titles.append(str(frame.iloc[start].dropna().iloc[0]).strip())
        start = below
    return (frame.iloc[start:].reset_index(drop=True), titles) if titles else (frame, [])


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
                                "fix that row or export the file again from your spreadsheet program.", code="open_quote",
                                 line=int(quote.group(1)) + 1) from None
            else:
                raise DataError(f"The file could not be read as a {DELIMITERS.get(delimiter, repr(delimiter))}-"
                                f"separated table ({str(e).strip()}); check that it is a plain CSV export.", code="unparsable",
                                delimiter=delimiter, reason=str(e).strip()) from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{os.path.basename(path)} holds no rows of data; export the table again.",
                            code="no_rows", name=os.path.basename(path)) from None
    raise DataError("Rows of the file have wildly different numbers of fields; check the delimiter.",
                    code="ragged_rows")


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
        raise DataError("The file has column names but no rows of data; add rows or check the export.", code="no_rows",
                        variant="header_only")
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
    """The first sheet, read by calamine (about 20 times openpyxl's speed), after its XML was checked against the
    limits: cells in all, and how far its rows and columns reach (calamine fills the whole rectangle)."""
    from python_calamine import CalamineWorkbook
    name = os.path.basename(path)
    limits.check_workbook(path)
    uncomputed = _scan_sheet(path, name)
    try:
        book = CalamineWorkbook.from_path(path)
        sheet_names = list(book.sheet_names)
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        book.close()
    except Exception as e:  # calamine raises its own kinds for a damaged workbook
        raise _damaged_workbook(name, e) from None
    counter, values = limits.CellCounter(name), []
    for row in rows:
        cells = [None if v == "" else _cell_str(v) for v in row]  # calamine gives "" for an empty cell
        while cells and cells[-1] is None:
            cells.pop()
        counter.add(len(cells))
        values.append(cells)
    width = max((len(r) for r in values), default=0)
    raw = pd.DataFrame([r + [None] * (width - len(r)) for r in values], dtype=object)
    raw = raw.dropna(how="all").reset_index(drop=True)
    notes = _check_formulas(raw, uncomputed, name)
    raw = raw.dropna(axis=1, how="all")
    raw.columns = range(raw.shape[1])
    if raw.empty:
        raise DataError(f"The first sheet of {name} ('{sheet_names[0]}') is empty; put the table on the first sheet.",
                        code="empty_sheet", name=name, sheet=sheet_names[0])
    if len(sheet_names) > 1:
        notes.append(f"The workbook has {len(sheet_names)} sheets; only the first, '{sheet_names[0]}', was read.")
    return _finish_table(raw.astype(object), path, None, None, has_header, notes)


def _damaged_workbook(name: str, e: Exception) -> DataError:
    return DataError(f"The Excel file {name} is damaged or incomplete ({type(e).__name__}); "
                     "open it in Excel and save it again, or export it as CSV.", code="damaged_file", name=name,
                     error=type(e).__name__)


# A formula cell with no stored result: <c r="B2"><f>A2*2</f></c> (programs that write workbooks often leave it out)
_FORMULA_WITHOUT_VALUE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*'
                                    rb'(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
_CELL_COLUMN = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})\d')
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')


def _scan_sheet(path: str, name: str) -> Counter:
    """Check the first sheet's XML against the limits before it is parsed, and return {column index: formula cells
    without a stored result}."""
    found, cells, rows, columns = Counter(), 0, 0, 0
    try:
        with zipfile.ZipFile(path) as z:
            member = _first_sheet(z)
            if member is None:
                return found
            with z.open(member) as xml:
                carry = b""
                while True:
                    chunk = xml.read(limits.CHUNK_BYTES)
                    data = carry + chunk
                    cut = data.rfind(b"<c ") if chunk else len(data)  # whole cells before the last cell's start
                    piece, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
                    cells += piece.count(b"<c ") + piece.count(b"<c>")
                    numbers = _ROW_NUMBER.findall(piece)
                    rows = max(rows, int(numbers[-1]) if numbers else 0, rows + (cells > 0 and not numbers))
                    letters = set(_CELL_COLUMN.findall(piece))
                    columns = max([columns, *(_column_index(x) + 1 for x in letters)])
                    if columns > limits.MAX_COLUMNS:
                        raise limits.too_many_columns(name, None, columns)
                    if cells > limits.MAX_CELLS or rows * columns > limits.MAX_CELLS:
                        raise limits.too_many_cells(name, rows, max(columns, cells // max(rows, 1)))
                    if b"<f" in piece:
                        found.update(_column_index(m.group(1)) for m in _FORMULA_WITHOUT_VALUE.finditer(piece))
                    if not chunk:
                        return found
    except (zipfile.BadZipFile, KeyError, OSError):
        return found  # the workbook reader says it is damaged, in its own sentence


def _first_sheet(z: zipfile.ZipFile) -> str | None:
    """The zip member holding the workbook's first sheet (named in xl/workbook.xml, found through its relations)."""
    try:
        workbook = z.read("xl/workbook.xml")
        relations = z.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', workbook)
    if not first:
        return None
    for rel in re.finditer(rb"<Relationship\b[^>]*>", relations):
        if re.search(rb'\bId="' + re.escape(first.group(1)) + rb'"', rel.group()):
            target = re.search(rb'\bTarget="([^"]+)"', rel.group())
            if target:
                target = target.group(1).decode()
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                return member if member in z.namelist() else None
    return None


def _column_index(letters: bytes) -> int:
    index = 0
    for c in letters:
        index = index * 26 + c - 64
    return index - 1


def _check_formulas(raw: pd.DataFrame, uncomputed: Counter, name: str) -> list[str]:
    """A DataError when a column is nothing but formulas without results; else a note on how many were read empty."""
    for j, n in sorted(uncomputed.items()):
        if j >= raw.shape[1] or raw[j].notna().sum() <= 1:  # at most its heading has a value
            heading = raw[j].dropna() if j < raw.shape[1] else []
            column = f"'{heading.iloc[0]}'" if len(heading) else f"{_column_letters(j)}"
            raise DataError(f"The column {column} of {name} holds formulas whose results were never calculated (the "
                            "file was written by a program, not saved by a spreadsheet); open it in Excel or "
                            "LibreOffice and save it again, or export it as CSV.", code="uncomputed_formulas",
                            column=column, name=name)
    total = sum(uncomputed.values())
    if total:
        return [f"{total:,} formula cells have no calculated result stored in the file and were read as empty; "
                "open it in Excel or LibreOffice and save it again to keep them."]
    return []


def _column_letters(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _read_json(path, encoding) -> Table:
    """A JSON array of objects or JSON lines (one object per line); nested objects are spread into columns."""
    name = os.path.basename(path)
    try:
        with open(path, encoding=encoding) as f:
            text = f.read().lstrip("\ufeff \r\n\t")
    except UnicodeDecodeError:
        raise _BadBytes() from None
    records, note = _json_records(text, name)
    columns, rows = {}, []
    for i, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise DataError(f"Record {i:,} of {name} is not a JSON object with named fields ({type(record).__name__}); "
                            "give one object per row, such as {\"text\": \"...\", \"label\": \"...\"}.", code="invalid_json",
                            variant="record", name=name, record=i)
        flat = _flatten(record)
        columns.update(dict.fromkeys(flat))
        if len(columns) > limits.MAX_COLUMNS:
            raise limits.too_many_columns(name, i, len(columns))
        if i * len(columns) > limits.MAX_CELLS:
            raise limits.too_many_cells(name, i, len(columns))
        rows.append(flat)
    if not rows or not columns:
        raise DataError(f"{name} holds no rows of data; export the table again.", code="no_rows", name=name)
    frame = pd.DataFrame.from_records(rows, columns=list(columns)).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    top = {str(k) for r in records[:1000] for k in r}
    nested = [c for c in frame.columns if c not in top]
    notes = [note] if note else []
    if nested:
        notes.append(f"Nested values were spread into columns of their own ({', '.join(repr(c) for c in nested[:4])}"
                     f"{' ...' if len(nested) > 4 else ''}); lists were kept as JSON text.")
    frame, more = _tidy(frame, list(frame.columns), None)
    return Table(frame, path, encoding, None, True, notes + more)


def _json_records(text: str, name: str) -> tuple[list, str | None]:
    """The records of a JSON array, JSON lines, or an object holding one list of records (or lists as columns)."""
    if not text.startswith("["):
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                whole = _whole_json(text)
                if whole is not None:
                    return whole
                raise DataError(f"{name} is not valid JSON lines (one JSON object per line): line {number:,} does not "
                                f"parse ({e.msg}); fix that line or save the table as CSV.", code="invalid_json",
                                variant="lines", name=name, line=number) from None
        return records, None
    whole = _whole_json(text)
    if whole is None:
        raise DataError(f"{name} is not valid JSON; check the file (a missing comma or bracket) or save the table "
                        "as CSV.", code="invalid_json", name=name)
    return whole


def _whole_json(text: str) -> tuple[list, str | None] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict):
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        if len(lists) == 1 and all(isinstance(r, dict) for r in next(iter(lists.values()))):
            key, records = next(iter(lists.items()))
            return records, f"The rows were read from the list under \"{key}\"."
        if data and len(lists) == len(data) and len({len(v) for v in lists.values()}) == 1:
            n = len(next(iter(lists.values())))
            return [{k: v[i] for k, v in lists.items()} for i in range(n)], None  # one list per column
        return [data], None
    return None


def _flatten(record: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}, "c": [2, 3]} -> {"a.b": "1", "c": "[2, 3]"}; a list of one plain value is that value."""
    flat = {}
    for key, value in record.items():
        key = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, key + "."))
        elif isinstance(value, list) and len(value) == 1 and not isinstance(value[0], (dict, list)):
            flat[key] = _cell_str(value[0])
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, ensure_ascii=False) if value else None
        else:
            flat[key] = _cell_str(value)
    return flat
