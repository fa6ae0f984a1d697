"""Tab 1, Data: upload a table (or take the sample), pick its columns, read the data doctor's findings."""
from __future__ import annotations

import dataclasses
import hashlib
import shutil
import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import data, models, plots
from ..config import DataConfig, RunConfig
from ..training import prepare_splits
from .context import Studio, cached_tokenizer, model_readiness, toast_errors
from .i18n import I18N, finding_text, plain, plot_words, t

FILE_TYPES = [".csv", ".tsv", ".txt", ".xlsx", ".jsonl"]
PREVIEW_ROWS = 8
PREVIEW_CHARS = 160
SEVERITY_ICON = {"error": "⛔", "warning": "⚠️", "info": "ℹ️"}


# --- handlers: plain values in and out ---------------------------------------------------------
def keep_upload(studio: Studio, path: str | None) -> str | None:
    """A copy of an uploaded file under the runs folder, so runs keep their data after the browser's temp files go."""
    if not path:
        return None
    source = Path(path)
    with open(source, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()[:10]
    target = studio.uploads_dir / digest / source.name  # the file keeps its own name in the runs table
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return str(target)


ENCODINGS = ["utf-8", "gb18030", "gbk", "big5", "utf-16", "shift_jis", "euc-kr", "cp1252", "latin-1"]
SAMPLE_TEXTS = 200   # texts kept in the view, to check whether a model's vocabulary reads the data


def analyse(path: str | None, text_column: str | None = None, label_column: str | None = None,
            validation_path: str | None = None, test_path: str | None = None,
            model_name: str | None = None, max_length: int = 128, *, extra_text_columns: list[str] | None = None,
            encoding: str | None = None, split_column: str | None = None, max_rows=None,
            label_names: dict | None = None) -> dict | None:
    """Everything the studio needs to know about a data file, as plain values (the page keeps it in a gr.State)."""
    if not path:
        return None
    view = {"path": str(path), "name": Path(path).name, "validation_path": validation_path, "test_path": test_path,
            "rows": 0, "columns": [], "text_column": None, "label_column": None, "label_counts": {}, "findings": [],
            "token_lengths": None, "has_errors": True, "preview": None, "model_name": model_name,
            "split": None, "split_sizes": None, "split_error": None, "encoding": encoding or None,
            "read_encoding": None, "split_column": split_column or None, "max_rows": _rows(max_rows),
            "text_columns": None, "label_names": dict(label_names or {}), "sample_texts": [],
            "max_length": int(max_length or 128)}
    try:
        table = data.read_table(path, encoding=encoding or None)
    except data.DataError as err:
        view["findings"] = [_finding("error", getattr(err, "code", None) or "unreadable", str(err), err.details)]
        return view
    except LookupError:
        view["findings"] = [_finding("error", "unreadable", f"Python does not know the encoding {encoding!r}; "
                                                            "pick another one.")]
        return view
    except Exception as err:  # a file the reader did not foresee: still a sentence, never a traceback
        view["findings"] = [_finding("error", "unreadable", f"The file could not be read ({type(err).__name__}); "
                                                            "upload a CSV, TSV, Excel (.xlsx) or JSON lines file.")]
        return view
    frame = table.frame
    view["read_encoding"] = table.encoding
    extra = [c for c in (extra_text_columns or []) if c in frame.columns and c != text_column]
    if text_column and extra:
        # The doctor reads the joined text, as training will (DataConfig.text_columns joins with a newline).
        columns = [text_column, *extra]
        joined = " + ".join(columns)
        frame = frame.copy()
        frame[joined] = frame[columns].fillna("").astype(str).agg("\n".join, axis=1)
        table = dataclasses.replace(table, frame=frame)
        view["text_columns"] = columns
        text_for_report = joined
    else:
        text_for_report = text_column or None
    split_column = split_column if split_column in frame.columns else None
    view["split_column"] = split_column
    tokenizer = _tokenizer_or_none(model_name)
    report = data.inspect(table, text_for_report, label_column or None, tokenizer=tokenizer,
                          max_length=int(max_length or 128), test=test_path or None)
    view.update(rows=report.rows, columns=[str(c) for c in table.frame.columns if c != text_for_report or not extra],
                text_column=text_column if extra else report.text_column,
                label_column=report.label_column, label_counts=dict(report.label_counts),
                findings=[_finding(f.severity, f.code, f.message, f.details) for f in report.findings],
                token_lengths=report.token_lengths, has_errors=report.has_errors,
                preview=_preview(frame, report.text_column if not extra else text_column, report.label_column),
                sample_texts=_sample(table.frame, text_for_report or report.text_column))
    view["label_names"] = {k: v for k, v in view["label_names"].items() if k in view["label_counts"] and v}
    if not report.has_errors:
        view["split"], view["split_sizes"], view["split_error"] = _split(view)
        view["split_problem"] = view["split_error"] and _split_problem(view["split_error"])
        view["split_error"] = view["split_error"] and str(view["split_error"])
    return view


def _rows(value) -> int | None:
    try:
        rows = int(float(value))
    except (TypeError, ValueError):
        return None
    return rows if rows > 0 else None


def _sample(frame: pd.DataFrame, column: str | None) -> list[str]:
    if not column or column not in frame.columns:
        return []
    texts = frame[column].dropna().astype(str)
    return [text[:500] for text in texts[texts.str.strip() != ""].head(SAMPLE_TEXTS)]


def _preview(frame: pd.DataFrame, text_column: str | None, label_column: str | None) -> dict:
    """The first rows, label column first and text second, so both show however long the texts are."""
    first = [c for c in (label_column, text_column) if c in frame.columns]
    columns = first + [str(c) for c in frame.columns if c not in first]
    rows = frame[columns].head(PREVIEW_ROWS).itertuples(index=False)
    return {"columns": columns, "rows": [[_short(v) for v in row] for row in rows]}


def _split(view: dict):
    """(description, [train, validation, test] sizes, error: a DataError or a sentence) of the split training uses."""
    config = RunConfig(data=DataConfig(
        train_file=view["path"], text_column=view["text_column"], label_column=view["label_column"],
        validation_file=view["validation_path"] or None, test_file=view["test_path"] or None,
        encoding=view["encoding"], split_column=view["split_column"],
        text_columns=view["text_columns"], label_names=view["label_names"] or None))
    try:
        splits = prepare_splits(config)
    except data.DataError as err:
        return None, None, err
    except Exception as err:  # an odd file the core did not foresee: training would fail the same way
        return None, None, f"The data cannot be split for training ({type(err).__name__}: {str(err)[:200]})."
    return splits.description, [len(splits.train), len(splits.validation), len(splits.test)], None


def _tokenizer_or_none(model_name: str | None):
    try:
        return cached_tokenizer(model_name or models.DEFAULT_MODEL)
    except models.ModelError:
        return None  # the Model tab says why; the doctor still checks everything else


def _split_problem(error) -> dict:
    """The split's error as a finding (code and values for the page's language), from a DataError or a sentence."""
    if isinstance(error, data.DataError):
        return _finding("error", error.code or "unreadable", str(error), error.details)
    return _finding("error", "split", str(error))


def split_error_text(view: dict, lang: str) -> str:
    problem = view.get("split_problem")
    return finding_text(problem, lang) if problem else view["split_error"]


def _finding(severity: str, code: str, message: str, details: dict | None = None) -> dict:
    plain = {k: v for k, v in (details or {}).items() if isinstance(v, (str, int, float, bool, list))}
    return {"severity": severity, "code": code, "message": message, "details": plain}


def _short(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


# --- rendering: a view in one language ---------------------------------------------------------
def report_markdown(view: dict | None, lang: str) -> str:
    if not view:
        return ""
    parts = []
    if view["rows"]:
        labels = len(view["label_counts"])
        parts.append(t("data_summary_one_label" if labels == 1 else "data_summary", lang, name=plain(view["name"]),
                       rows=view["rows"], labels=labels,
                       text=plain(" + ".join(view.get("text_columns") or [view["text_column"] or "?"])),
                       label=plain(view["label_column"] or "?")))
    ready = model_readiness(view.get("model_name") or models.DEFAULT_MODEL, view.get("sample_texts"))
    findings = sorted(view["findings"], key=lambda f: ("error", "warning", "info").index(f["severity"]))
    if ready["usable"] and not ready["readable"]:
        findings = [f for f in findings if f["code"] != "unknown_tokens"]  # the verdict below says it, and what to do
    if findings:
        parts.append("\n".join(f"- {SEVERITY_ICON[f['severity']]} **{t('severity_' + f['severity'], lang)}**: "
                               f"{plain(finding_text(f, lang))}" for f in findings))
    if view["has_errors"]:
        parts.append(t("data_fix_errors", lang))
        return "\n\n".join(parts)
    if not ready["usable"]:
        parts.append(t("data_model_unusable", lang))
    elif not ready["readable"]:
        parts.append(t("data_model_unreadable", lang, share=f"{ready['share']:.0%}"))
    elif findings:
        parts.append(t("data_ready_with_warnings", lang))
    else:
        parts.append(t("data_ready", lang))
    return "\n\n".join(parts)


def named_counts(view: dict) -> dict:
    """Examples per label, under the names the user gave them."""
    names = view.get("label_names") or {}
    return {names.get(label) or label: count for label, count in view["label_counts"].items()}


def label_names_frame(view: dict | None, lang: str) -> pd.DataFrame:
    columns = [t("col_raw_label", lang), t("col_label_name", lang)]
    if not view or not view["label_counts"]:
        return pd.DataFrame(columns=columns)
    names = view.get("label_names") or {}
    return pd.DataFrame([[label, names.get(label, "")] for label in view["label_counts"]], columns=columns)


def label_names_from(table) -> dict:
    """{raw label: name} from the edited table; blank names and names equal to the label are left out."""
    if table is None:
        return {}
    rows = table.values.tolist() if isinstance(table, pd.DataFrame) else list(table.get("data", []) if
                                                                              isinstance(table, dict) else table)
    names = {}
    for row in rows:
        if len(row) >= 2 and not pd.isna(row[0]) and not pd.isna(row[1]) and str(row[1]).strip():
            raw, name = str(row[0]), str(row[1]).strip()
            if name != raw:
                names[raw] = name
    return names


def split_markdown(view: dict | None, lang: str) -> str:
    if not view or not view["rows"]:
        return ""
    if view["split_error"]:
        return f"⛔ {split_error_text(view, lang)}"
    if view["split"]:
        split = view["split"]
        if lang != "en" and view.get("split_sizes"):
            train, validation, test = view["split_sizes"]
            split = t("data_split_sizes", lang, train=f"{train:,}", validation=f"{validation:,}", test=f"{test:,}")
        return t("data_split", lang, split=split)
    return ""


def preview_frame(view: dict | None):
    """The preview table, the text column (second) given most of the width."""
    if not view or not view["preview"]:
        return pd.DataFrame()
    frame = pd.DataFrame(view["preview"]["rows"], columns=view["preview"]["columns"])
    n = len(frame.columns)
    if n < 2:
        return frame
    rest = [f"{40 / (n - 2):.0f}%"] * (n - 2) if n > 2 else []
    widths = ["25%", "75%"] if n == 2 else ["20%", "40%", *rest]
    return gr.update(value=frame, column_widths=widths)


def distribution_figure(view: dict | None, lang: str):
    if not view or not view["label_counts"]:
        return plots.empty_figure(t("data_no_labels_yet", lang), height=220)
    return plots.label_distribution(named_counts(view), plot_words(lang))


def render(view: dict | None, lang: str) -> tuple:
    """(waiting hint, report, preview, chart, text column, label column, split, more text columns, encoding,
    split column, label names) for the page."""
    columns = view["columns"] if view else []
    text_column = view["text_column"] if view else None
    label_column = view["label_column"] if view else None
    others = [c for c in columns if c not in (text_column, label_column)]
    detected = (view or {}).get("read_encoding")
    encodings = [(t("data_encoding_auto", lang) + (f" ({detected})" if detected and not view["encoding"] else ""),
                  "")] + [(e, e) for e in ENCODINGS]
    return (gr.update(visible=not view), report_markdown(view, lang), preview_frame(view),
            distribution_figure(view, lang),
            gr.update(choices=columns, value=text_column, interactive=bool(columns)),
            gr.update(choices=columns, value=label_column, interactive=bool(columns)),
            split_markdown(view, lang),
            gr.update(choices=others, value=[c for c in (view or {}).get("text_columns") or [] if c != text_column],
                      interactive=bool(others)),
            gr.update(choices=encodings, value=(view or {}).get("encoding") or ""),
            gr.update(choices=[(t("data_no_split_column", lang), "")] + [(c, c) for c in others],
                      value=(view or {}).get("split_column") or "", interactive=bool(others)),
            label_names_frame(view, lang))


# --- the tab -----------------------------------------------------------------------------------
class DataTab:
    """The components of the Data tab; wire() connects them once the Model tab exists."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("data_intro"))
        with gr.Row():
            with gr.Column(scale=3):
                # Any file kind is taken: the reader says in a sentence what it cannot read (no English-only toast).
                self.upload = gr.File(label=I18N("data_upload"), elem_id="data-upload", height=150)
            with gr.Column(scale=2, min_width=220):
                gr.Markdown(I18N("data_sample_hint"))
                self.sample = gr.Button(I18N("data_sample"), elem_id="data-sample", variant="secondary")
        self.waiting = gr.Markdown(I18N("data_waiting"), elem_id="data-waiting")
        # No translated starting value here: Gradio would put it back over later updates when the language changes.
        self.report = gr.Markdown(elem_id="data-report")
        with gr.Row():
            self.text_column = gr.Dropdown(label=I18N("data_text_column"), info=I18N("data_text_column_info"),
                                           choices=[], interactive=False, elem_id="text-column")
            self.label_column = gr.Dropdown(label=I18N("data_label_column"), info=I18N("data_label_column_info"),
                                            choices=[], interactive=False, elem_id="label-column")
        with gr.Row():
            self.more_text = gr.Dropdown(label=I18N("data_text_columns"), info=I18N("data_text_columns_info"),
                                         choices=[], multiselect=True, interactive=False, elem_id="more-text-columns")
            self.encoding = gr.Dropdown(label=I18N("data_encoding"), info=I18N("data_encoding_info"),
                                        choices=[("Detect", "")], value="", elem_id="data-encoding")
            self.split_column = gr.Dropdown(label=I18N("data_split_column"), info=I18N("data_split_column_info"),
                                            choices=[("-", "")], value="", interactive=False,
                                            elem_id="split-column")
            self.max_rows = gr.Number(None, label=I18N("data_max_rows"), info=I18N("data_max_rows_info"),
                                      precision=0, elem_id="data-max-rows")
        self.split = gr.Markdown(elem_id="data-split")
        with gr.Row():
            with gr.Column(scale=3):
                self.preview = gr.Dataframe(label=I18N("data_preview"), interactive=False, wrap=True,
                                            max_height=360, elem_id="data-preview")
            with gr.Column(scale=2):
                self.chart = gr.Plot(label=I18N("data_distribution"), elem_id="data-distribution")
                self.label_names = gr.Dataframe(label=I18N("data_label_names"), interactive=True, wrap=True,
                                                column_count=(2, "fixed"), elem_id="data-label-names")
                gr.Markdown(I18N("data_label_names_info"))
        with gr.Accordion(I18N("data_extra_files"), open=False):
            gr.Markdown(I18N("data_extra_files_info"))
            with gr.Row():
                self.validation_file = gr.File(label=I18N("data_validation_file"),
                                               elem_id="data-validation", height=110)
                self.test_file = gr.File(label=I18N("data_test_file"), elem_id="data-test", height=110)
        self.state = gr.State(None)  # the analysis of the current file, a plain dict
        self.outputs = [self.state, self.waiting, self.report, self.preview, self.chart, self.text_column,
                        self.label_column, self.split, self.more_text, self.encoding, self.split_column,
                        self.label_names]

    def wire(self, lang: gr.Radio, model_choice: gr.Dropdown, max_length: gr.Number) -> None:
        studio = self.studio

        @toast_errors
        def on_upload(path, validation, test, encoding, model_name, max_length, lang, request: gr.Request = None):
            with parsing_slot(request):
                view = analyse(keep_upload(studio, path), None, None, keep_upload(studio, validation),
                               keep_upload(studio, test), model_name, max_length, encoding=encoding)
            return (view, *render(view, lang))

        @toast_errors
        def on_sample(validation, test, model_name, max_length, lang):
            view = analyse(str(studio.sample_path), None, None, keep_upload(studio, validation),
                           keep_upload(studio, test), model_name, max_length)
            return (view, *render(view, lang))

        @toast_errors
        def on_extra_files(view, validation, test, model_name, max_length, lang, request: gr.Request = None):
            if not view:
                return (view, *render(view, lang))
            with parsing_slot(request):
                view = analyse(view["path"], view["text_column"], view["label_column"],
                               keep_upload(studio, validation), keep_upload(studio, test), model_name, max_length,
                               **options_of(view))
            return (view, *render(view, lang))

        @toast_errors
        def on_options(view, text_column, label_column, more_text, encoding, split_column, max_rows, names,
                       model_name, max_length, lang, request: gr.Request = None):
            if not view:
                return (view, *render(view, lang))
            with parsing_slot(request):
                view = analyse(view["path"], text_column, label_column, view["validation_path"], view["test_path"],
                               model_name, max_length, extra_text_columns=more_text, encoding=encoding,
                               split_column=split_column, max_rows=max_rows, label_names=label_names_from(names))
            return (view, *render(view, lang))

        def on_names(view, names, lang):
            if not view:
                return gr.skip(), gr.skip()
            view = {**view, "label_names": {k: v for k, v in label_names_from(names).items()
                                            if k in view["label_counts"]}}
            return view, distribution_figure(view, lang)

        common = [model_choice, max_length, lang]
        options = [self.state, self.text_column, self.label_column, self.more_text, self.encoding, self.split_column,
                   self.max_rows, self.label_names, *common]
        heavy = {"concurrency_limit": PARSING_WORKERS, "concurrency_id": "parse-files"}
        self.upload.upload(on_upload, [self.upload, self.validation_file, self.test_file, self.encoding, *common],
                           self.outputs, api_name="upload_data", **heavy)
        self.upload.clear(lambda lang: (None, *render(None, lang)), [lang], self.outputs)
        self.sample.click(on_sample, [self.validation_file, self.test_file, *common], self.outputs,
                          api_name="load_sample", **heavy)
        for control in (self.text_column, self.label_column, self.more_text, self.encoding, self.split_column):
            control.input(on_options, options, self.outputs, **heavy)
        self.max_rows.submit(on_options, options, self.outputs, **heavy)
        self.max_rows.blur(on_options, options, self.outputs, **heavy)
        self.label_names.input(on_names, [self.state, self.label_names, lang], [self.state, self.chart])
        for extra in (self.validation_file, self.test_file):
            extra.upload(on_extra_files, [self.state, self.validation_file, self.test_file, *common], self.outputs,
                         **heavy)
            extra.clear(on_extra_files, [self.state, self.validation_file, self.test_file, *common], self.outputs,
                        **heavy)


# --- reading files off other users' path -----------------------------------------------------------
# Parsing runs in Gradio's worker threads, several at once across users (PARSING_WORKERS), but one at a time per
# browser session: a big file keeps its own user waiting, not everyone else (the data layer bounds the work).
PARSING_WORKERS = 4
_session_locks: dict[str, threading.Lock] = {}
_session_locks_guard = threading.Lock()


class parsing_slot:
    """The per-session lock around parsing a file (no lock when called outside a request, e.g. from tests)."""

    def __init__(self, request) -> None:
        key = getattr(request, "session_hash", None)
        with _session_locks_guard:
            if key and len(_session_locks) > 1000:
                _session_locks.clear()  # old sessions; a lock in use stays referenced by its holder
            self.lock = _session_locks.setdefault(key, threading.Lock()) if key else None

    def __enter__(self):
        if self.lock:
            self.lock.acquire()
        return self

    def __exit__(self, *exc):
        if self.lock:
            self.lock.release()
        return False


def options_of(view: dict) -> dict:
    """The Data tab's choices kept in a view, to read the same file again with them."""
    more = [c for c in (view.get("text_columns") or []) if c != view.get("text_column")]
    return {"extra_text_columns": more, "encoding": view.get("encoding"), "split_column": view.get("split_column"),
            "max_rows": view.get("max_rows"), "label_names": view.get("label_names")}


def reanalyse(view, text_column, label_column, model_name, max_length, lang):
    """The same file again: other columns, another model's tokenizer, or another max length."""
    if not view:
        return (view, *render(view, lang))
    view = analyse(view["path"], text_column, label_column, view["validation_path"], view["test_path"],
                   model_name, max_length, **options_of(view))
    return (view, *render(view, lang))


def reanalyse_if_length_changed(view, text_column, label_column, model_name, max_length, lang):
    """reanalyse, only when the max length differs from the one the view was measured with."""
    if not view or not max_length or int(view.get("max_length") or 0) == int(max_length):
        return (gr.skip(),) * 12
    return reanalyse(view, text_column, label_column, model_name, max_length, lang)
