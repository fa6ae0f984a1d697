"""Tab 1, Data: upload a table (or take the sample), pick its columns, read the data doctor's findings."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import data, models, plots
from ..config import DataConfig, RunConfig
from ..training import prepare_splits
from .context import Studio, cached_tokenizer
from .i18n import I18N, finding_text, plot_words, t

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


def analyse(path: str | None, text_column: str | None = None, label_column: str | None = None,
            validation_path: str | None = None, test_path: str | None = None,
            model_name: str | None = None, max_length: int = 128) -> dict | None:
    """Everything the studio needs to know about a data file, as plain values (the page keeps it in a gr.State)."""
    if not path:
        return None
    view = {"path": str(path), "name": Path(path).name, "validation_path": validation_path, "test_path": test_path,
            "rows": 0, "columns": [], "text_column": None, "label_column": None, "label_counts": {}, "findings": [],
            "token_lengths": None, "has_errors": True, "preview": None, "model_name": model_name,
            "split": None, "split_sizes": None, "split_error": None}
    try:
        table = data.read_table(path)
    except data.DataError as err:
        view["findings"] = [_finding("error", getattr(err, "code", None) or "unreadable", str(err))]
        return view
    except Exception as err:  # a file the reader did not foresee: still a sentence, never a traceback
        view["findings"] = [_finding("error", "unreadable", f"The file could not be read ({type(err).__name__}); "
                                                            "upload a CSV, TSV, Excel (.xlsx) or JSON lines file.")]
        return view
    tokenizer = _tokenizer_or_none(model_name)
    report = data.inspect(table, text_column or None, label_column or None, tokenizer=tokenizer,
                          max_length=int(max_length or 128), test=test_path or None)
    frame = table.frame
    view.update(rows=report.rows, columns=[str(c) for c in frame.columns], text_column=report.text_column,
                label_column=report.label_column, label_counts=dict(report.label_counts),
                findings=[_finding(f.severity, f.code, f.message, f.details) for f in report.findings],
                token_lengths=report.token_lengths, has_errors=report.has_errors,
                preview=_preview(frame, report.text_column, report.label_column))
    if not report.has_errors:
        view["split"], view["split_sizes"], view["split_error"] = _split(
            path, report.text_column, report.label_column, validation_path, test_path)
    return view


def _preview(frame: pd.DataFrame, text_column: str | None, label_column: str | None) -> dict:
    """The first rows, label column first and text second, so both show however long the texts are."""
    first = [c for c in (label_column, text_column) if c in frame.columns]
    columns = first + [str(c) for c in frame.columns if c not in first]
    rows = frame[columns].head(PREVIEW_ROWS).itertuples(index=False)
    return {"columns": columns, "rows": [[_short(v) for v in row] for row in rows]}


def _split(path, text_column, label_column, validation_path, test_path):
    """(description, [train, validation, test] sizes, error) of the split training will use."""
    config = RunConfig(data=DataConfig(train_file=str(path), text_column=text_column, label_column=label_column,
                                       validation_file=validation_path or None, test_file=test_path or None))
    try:
        splits = prepare_splits(config)
    except data.DataError as err:
        return None, None, str(err)
    except Exception as err:  # an odd file the core did not foresee: training would fail the same way
        return None, None, f"The data cannot be split for training ({type(err).__name__}: {str(err)[:200]})."
    return splits.description, [len(splits.train), len(splits.validation), len(splits.test)], None


def _tokenizer_or_none(model_name: str | None):
    try:
        return cached_tokenizer(model_name or models.DEFAULT_MODEL)
    except models.ModelError:
        return None  # the Model tab says why; the doctor still checks everything else


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
        parts.append(t("data_summary", lang, name=view["name"], rows=view["rows"], labels=len(view["label_counts"]),
                       text=view["text_column"] or "?", label=view["label_column"] or "?"))
    findings = sorted(view["findings"], key=lambda f: ("error", "warning", "info").index(f["severity"]))
    if findings:
        parts.append("\n".join(f"- {SEVERITY_ICON[f['severity']]} **{t('severity_' + f['severity'], lang)}**: "
                               f"{finding_text(f, lang)}" for f in findings))
    if view["has_errors"]:
        parts.append(t("data_fix_errors", lang))
    elif findings:
        parts.append(t("data_ready_with_warnings", lang))
    else:
        parts.append(t("data_ready", lang))
    return "\n\n".join(parts)


def split_markdown(view: dict | None, lang: str) -> str:
    if not view or not view["rows"]:
        return ""
    if view["split_error"]:
        return f"⛔ {view['split_error']}"
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
    return plots.label_distribution(view["label_counts"], plot_words(lang))


def render(view: dict | None, lang: str) -> tuple:
    """(waiting hint, report, preview, chart, text column, label column, split) for the page."""
    columns = view["columns"] if view else []
    return (gr.update(visible=not view), report_markdown(view, lang), preview_frame(view),
            distribution_figure(view, lang),
            gr.update(choices=columns, value=view["text_column"] if view else None, interactive=bool(columns)),
            gr.update(choices=columns, value=view["label_column"] if view else None, interactive=bool(columns)),
            split_markdown(view, lang))


# --- the tab -----------------------------------------------------------------------------------
class DataTab:
    """The components of the Data tab; wire() connects them once the Model tab exists."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("data_intro"))
        with gr.Row():
            with gr.Column(scale=3):
                self.upload = gr.File(label=I18N("data_upload"), file_types=FILE_TYPES, elem_id="data-upload",
                                      height=150)
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
        self.split = gr.Markdown(elem_id="data-split")
        with gr.Row():
            with gr.Column(scale=3):
                self.preview = gr.Dataframe(label=I18N("data_preview"), interactive=False, wrap=True,
                                            max_height=360, elem_id="data-preview")
            with gr.Column(scale=2):
                self.chart = gr.Plot(label=I18N("data_distribution"), elem_id="data-distribution")
        with gr.Accordion(I18N("data_extra_files"), open=False):
            gr.Markdown(I18N("data_extra_files_info"))
            with gr.Row():
                self.validation_file = gr.File(label=I18N("data_validation_file"), file_types=FILE_TYPES,
                                               elem_id="data-validation", height=110)
                self.test_file = gr.File(label=I18N("data_test_file"), file_types=FILE_TYPES,
                                         elem_id="data-test", height=110)
        self.state = gr.State(None)  # the analysis of the current file, a plain dict
        self.outputs = [self.state, self.waiting, self.report, self.preview, self.chart, self.text_column,
                        self.label_column, self.split]

    def wire(self, lang: gr.Radio, model_choice: gr.Dropdown, max_length: gr.Number) -> None:
        studio = self.studio

        def on_upload(path, validation, test, model_name, max_length, lang):
            view = analyse(keep_upload(studio, path), None, None, keep_upload(studio, validation),
                           keep_upload(studio, test), model_name, max_length)
            return (view, *render(view, lang))

        def on_sample(validation, test, model_name, max_length, lang):
            view = analyse(str(studio.sample_path), None, None, keep_upload(studio, validation),
                           keep_upload(studio, test), model_name, max_length)
            return (view, *render(view, lang))

        def on_extra_files(view, validation, test, model_name, max_length, lang):
            if not view:
                return (view, *render(view, lang))
            view = analyse(view["path"], view["text_column"], view["label_column"], keep_upload(studio, validation),
                           keep_upload(studio, test), model_name, max_length)
            return (view, *render(view, lang))

        common = [model_choice, max_length, lang]
        self.upload.upload(on_upload, [self.upload, self.validation_file, self.test_file, *common], self.outputs,
                           api_name="upload_data")
        self.upload.clear(lambda lang: (None, *render(None, lang)), [lang], self.outputs)
        self.sample.click(on_sample, [self.validation_file, self.test_file, *common], self.outputs,
                          api_name="load_sample")
        for dropdown in (self.text_column, self.label_column):
            dropdown.input(reanalyse, [self.state, self.text_column, self.label_column, *common], self.outputs)
        for extra in (self.validation_file, self.test_file):
            extra.upload(on_extra_files, [self.state, self.validation_file, self.test_file, *common], self.outputs)
            extra.clear(on_extra_files, [self.state, self.validation_file, self.test_file, *common], self.outputs)


def reanalyse(view, text_column, label_column, model_name, max_length, lang):
    """The same file again: other columns, another model's tokenizer, or another max length."""
    if not view:
        return (view, *render(view, lang))
    view = analyse(view["path"], text_column, label_column, view["validation_path"], view["test_path"],
                   model_name, max_length)
    return (view, *render(view, lang))
