"""Tab 4, Evaluate: how the shown run did on its test examples, and where it goes wrong."""
from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from .. import plots
from ..metrics import summarize, warning_text
from .context import Studio
from .i18n import I18N, plain, plot_words, t

MAX_MISTAKES = 200


# --- handlers ----------------------------------------------------------------------------------
def evaluation(studio: Studio, run_id: str | None) -> dict:
    """The test results of a run as plain values: its metrics, and its mistakes most confident first."""
    run = studio.find_run(run_id)
    if run is None:
        return {"run_id": None, "metrics": None, "mistakes": [], "state": None, "name": ""}
    metrics = run.metrics()
    wrong = [p for p in run.predictions() if p["label"] != p["predicted"]]
    wrong.sort(key=lambda p: -p["confidence"])
    return {"run_id": run.id, "name": run.config().name, "state": run.state, "metrics": metrics,
            "mistakes": wrong[:MAX_MISTAKES], "mistake_count": len(wrong)}


def summary_text(report: dict, lang: str) -> str:
    """The plain-language summary in the page's language; the warning is shown on its own, above it."""
    return summarize(report, lang, with_warning=False)


def warning_html(report: dict, lang: str) -> str:
    """A box saying why the accuracy is misleading, or "" when it is not."""
    warning = warning_text(report, lang)
    return f'<div class="studio-warning" role="alert">⚠️ {html.escape(warning)}</div>' if warning else ""


def metric_cards(report: dict, lang: str) -> list[tuple[str, str, str]]:
    """(title, value, explanation) of each headline number; the majority-label baseline sits beside the accuracy."""
    cards = [(t("metric_accuracy", lang), f"{report['accuracy']:.1%}", t("metric_accuracy_info", lang))]
    baseline = report.get("baseline")
    if baseline:
        info = "metric_baseline_info_test" if baseline.get("source") == "test" else "metric_baseline_info"
        cards.append((t("metric_baseline", lang, label=baseline["label"]), f"{baseline['accuracy']:.1%}", t(info, lang)))
    return cards + [
        (t("metric_macro_f1", lang), f"{report['macro_f1']:.2f}", t("metric_macro_f1_info", lang)),
        (t("metric_weighted_f1", lang), f"{report['weighted_f1']:.2f}", t("metric_weighted_f1_info", lang)),
        (t("metric_examples", lang), f"{report['examples']:,}", t("metric_examples_info", lang))]


def metrics_html(view: dict, lang: str) -> str:
    report = view["metrics"]
    if view["run_id"] is None:
        return f'<p class="studio-empty">{html.escape(t("eval_no_run", lang))}</p>'
    if not report:
        state = t("state_" + (view["state"] or "unknown"), lang)
        return f'<p class="studio-empty">{html.escape(t("eval_not_ready", lang, state=state))}</p>'
    cards_html = "".join(f'<div class="studio-card"><div class="studio-card-value">{value}</div>'
                         f'<div class="studio-card-title">{html.escape(title)}</div>'
                         f'<div class="studio-card-info">{html.escape(info)}</div></div>'
                         for title, value, info in metric_cards(report, lang))
    summary = html.escape(summary_text(report, lang))
    return (f'{warning_html(report, lang)}<div class="studio-cards">{cards_html}</div>'
            f'<p class="studio-summary"><b>{html.escape(t("eval_summary", lang))}</b> {summary}</p>')


def per_class_frame(view: dict, lang: str) -> pd.DataFrame:
    report = view["metrics"]
    columns = [t(k, lang) for k in ("col_label", "col_precision", "col_recall", "col_f1", "col_support")]
    if not report:
        return pd.DataFrame(columns=columns)
    rows = [[r["label"], round(r["precision"], 3), round(r["recall"], 3), round(r["f1"], 3), r["support"]]
            for r in sorted(report["per_class"], key=lambda r: r["f1"])]
    return pd.DataFrame(rows, columns=columns)


def mistakes_frame(view: dict, lang: str) -> pd.DataFrame:
    columns = [t(k, lang) for k in ("col_text", "col_true", "col_predicted", "col_confidence")]
    rows = [[m["text"], m["label"], m["predicted"], f"{m['confidence']:.0%}"] for m in view["mistakes"]]
    return pd.DataFrame(rows, columns=columns)


def confusion_figure(view: dict, lang: str):
    if not view["metrics"]:
        return plots.empty_figure(t("eval_confusion_empty", lang))
    return plots.confusion_heatmap(view["metrics"], plot_words(lang))


def header_markdown(view: dict, lang: str) -> str:
    if view["run_id"] is None:
        return ""
    run = f"{view['name']} ({view['run_id']})" if view["name"] else view["run_id"]
    return t("eval_header", lang, run=plain(run))


def mistakes_markdown(view: dict, lang: str) -> str:
    if not view["metrics"]:
        return ""
    if not view["mistakes"]:
        return t("eval_no_mistakes", lang)
    return t("eval_mistakes_note", lang, count=view["mistake_count"], shown=len(view["mistakes"]))


def render(studio: Studio, run_id: str | None, lang: str) -> tuple:
    view = evaluation(studio, run_id)
    return (header_markdown(view, lang), metrics_html(view, lang), per_class_frame(view, lang),
            confusion_figure(view, lang), mistakes_markdown(view, lang), mistakes_frame(view, lang))


# --- the tab -----------------------------------------------------------------------------------
class EvaluateTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("eval_intro"))
        self.header = gr.Markdown(elem_id="eval-header")
        self.metrics = gr.HTML(elem_id="eval-metrics")
        with gr.Row():
            with gr.Column(scale=2):
                self.per_class = gr.Dataframe(label=I18N("eval_per_class"), interactive=False, wrap=True,
                                              max_height=480, column_widths=["36%", "16%", "16%", "16%", "16%"],
                                              elem_id="eval-per-class")
                gr.Markdown(I18N("eval_per_class_info"))
            with gr.Column(scale=3):
                self.confusion = gr.Plot(label=I18N("eval_confusion"), elem_id="eval-confusion")
                gr.Markdown(I18N("eval_confusion_info"))
        gr.Markdown(I18N("eval_mistakes_title"))
        self.mistakes_note = gr.Markdown(elem_id="eval-mistakes-note")
        self.mistakes = gr.Dataframe(interactive=False, wrap=True, max_height=420, show_label=False,
                                     elem_id="eval-mistakes", column_widths=["55%", "15%", "15%", "15%"])
        self.outputs = [self.header, self.metrics, self.per_class, self.confusion, self.mistakes_note, self.mistakes]

    def wire(self, lang: gr.Radio, viewed_run: gr.State, run_key: gr.State) -> None:
        studio = self.studio
        run_key.change(lambda run_id, lang: render(studio, run_id, lang), [viewed_run, lang], self.outputs,
                       show_progress="hidden")
        lang.change(lambda run_id, lang: render(studio, run_id, lang), [viewed_run, lang], self.outputs,
                    show_progress="hidden")
