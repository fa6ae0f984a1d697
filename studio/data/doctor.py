"""The data doctor: what will go wrong when training on a table, and what to do, as a Report of Findings."""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .columns import choose_columns
from .errors import ERROR_CODES, DataError, plural, quoted
from .examples import INVISIBLE, as_text, label_problems, load_examples
from .reading import Table, encoding_note, read_table
from .splits import MIN_PER_CLASS

MAX_TOKENIZED = 20_000      # the doctor tokenizes at most this many texts
# Every code a Finding can carry: the doctor's own, and a DataError's code when reading or loading fails (a page
# that shows findings in another language has a sentence for each).
DOCTOR_CODES = ("unreadable", "encoding", "read_note", "empty_text", "missing_labels", "invisible_characters",
                "duplicates", "conflicting_labels", "label_variants", "single_class", "too_few_examples", "imbalance",
                "too_long", "unknown_tokens", "test_overlap")
FINDING_CODES = DOCTOR_CODES + tuple(c for c in ERROR_CODES if c not in DOCTOR_CODES)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


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


def inspect(path_or_table, text_column=None, label_column=None, tokenizer=None, max_length=128,
            test=None, encoding=None, text_columns=None, label_names=None) -> Report:
    """The data doctor: what will go wrong when training on this file, and what to do. Never raises for a bad file.

    text_columns (several columns joined into the text) and label_names ({raw label: name}) as in DataConfig."""
    path = path_or_table.path if isinstance(path_or_table, Table) else str(path_or_table)
    try:
        table = path_or_table if isinstance(path_or_table, Table) else read_table(path, encoding=encoding)
    except Exception as e:  # a DataError says why; anything else still becomes a finding, not a traceback
        message = str(e) if isinstance(e, DataError) else (
            f"The file could not be read ({e}); check that it is a CSV, TSV, Excel or JSON lines file.")
        details = {"error": e.code, **e.details} if isinstance(e, DataError) and e.code else {}
        return Report(path, 0, [], None, None, None, None, {}, [Finding("error", "unreadable", message, details)])
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
        text_column, label_column = choose_columns(frame, text_column, label_column, text_columns)
        report.text_column, report.label_column = text_column, label_column
        examples = load_examples(table, text_column, label_column, text_columns, label_names)
    except DataError as e:
        add("error", e.code or "no_label_column", str(e), **e.details)
        return report

    missing, invisible = label_problems(frame, label_column)
    skipped = len(frame) - len(examples)
    if not len(examples):
        add("error", "empty_text", f"No row has both a text in '{text_column}' and a label in '{label_column}'; "
                                   "check that these are the right columns.", rows=skipped,
            text=text_column, label=label_column)
        return report
    no_label = min(sum(missing.values()), skipped)
    if no_label:
        add("warning", "missing_labels", f"{plural(no_label, 'row')} {'has' if no_label == 1 else 'have'} the label "
                                         f"{quoted(sorted(missing), 3)}, which means no label; "
                                         f"{'it' if no_label == 1 else 'they'} will be skipped - fill in the labels "
                                         "if these rows should count.", rows=no_label, values=sorted(missing))
    if skipped - no_label:
        n = skipped - no_label
        add("warning", "empty_text", f"{plural(n, 'row')} {'has' if n == 1 else 'have'} an empty text or label; "
                                     f"{'it' if n == 1 else 'they'} will be skipped.", rows=n)
    if invisible:
        shown = [INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", v) for v in invisible]
        add("info", "invisible_characters", f"{plural(len(invisible), 'label')} held invisible characters ("
                                            f"{quoted(shown, 3)}); they were removed, so each counts with the label "
                                            "it looks like.", labels=shown)

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
            f'{len(conflicts):,} texts appear with different labels (e.g. "{example}" as {quoted(labels)}); '
            "the model cannot learn both - fix or remove them.", texts=len(conflicts))


def _check_labels(counts: Counter, add):
    groups = {}
    for label in counts:
        groups.setdefault(re.sub(r"\s+", " ", label.casefold()), []).append(label)
    variants = [sorted(g) for g in groups.values() if len(g) > 1]
    if variants:
        add("warning", "label_variants",
            f"The labels {quoted(variants[0])} differ only in capitals or spacing ({len(variants)} such group"
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
        # "0.0% of texts" says nothing: below 0.1% the count is given instead
        part = (f"{share:.1%} of texts are" if share >= 0.001 else
                f"{over:,} of {len(lengths):,} texts {'is' if over == 1 else 'are'}")
        add("warning" if share > 0.05 else "info", "too_long",
            f"{part} longer than {max_length} tokens (95% are within {p95}) and will be cut; "
            f"raise the max length if the end of a text matters.", share=share, p95=p95, over=over,
            texts=len(lengths))
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
    texts = as_text(table.frame[column]).dropna()
    shared = int(texts.isin(set(data["text"])).sum())
    if shared:
        add("warning", "test_overlap", f"{shared:,} of the {len(texts):,} texts in the test file also appear in the "
                                       "training data, so test scores will look better than they are; "
                                       "remove them from one of the files.", texts=shared)
