"""The Runs tab's "Compare runs" panel: pick two or more runs, see them side by side (studio.compare).

Mounted by the Runs tab in two lines: `panel = compare.ComparePanel(studio)` where it should appear, and
`panel.wire(lang, refresh_events)` with the events after which the list of runs may have changed.
"""
from __future__ import annotations

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from .. import compare as core
from ..plots import empty_figure, thin
from ..runs import list_runs
from .context import Studio
from .i18n import I18N, t

DIFFERS = "#fde68a"       # the background of a setting that differs between the runs
SHOWN_TEXTS = 200         # fixed and broken texts listed in the page (all of them are counted)
DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


# --- handlers: plain values in and out ---------------------------------------------------------
def settings_table(result: dict, lang: str):
    """The settings side by side, the rows that differ first and highlighted."""
    ids = [r["id"] for r in result["runs"]]
    rows = sorted(result["settings"], key=lambda s: not s["differs"])
    frame = pd.DataFrame([[s["key"], *[_cell(v) for v in s["values"]]] for s in rows],
                         columns=[t("compare_setting", lang), *ids])
    differs = [s["differs"] for s in rows]
    return frame.style.apply(lambda row: [f"background-color: {DIFFERS}" if differs[row.name] else ""] * len(row),
                             axis=1)


def _cell(value) -> str:
    return "" if value is None or value == "null" else str(value)


def scores_table(result: dict, lang: str) -> pd.DataFrame:
    """Test scores and F1 per label, each later run with its difference from the first."""
    runs = result["runs"]
    columns = [t("compare_score", lang), runs[0]["id"]]
    for r in runs[1:]:
        columns += [r["id"], f"Δ {r['id']}"]
    rows = [[t(f"compare_{key}", lang), *_with_differences([r[key] for r in runs])] for key in core.SCORES]
    rows += [[f"F1 · {row['label']}", *_with_differences(row["f1"])] for row in result["per_label"]]
    return pd.DataFrame(rows, columns=columns)


def _with_differences(values: list) -> list[str]:
    first = values[0]
    cells = [f"{first:.3f}" if first is not None else "–"]
    for value in values[1:]:
        cells.append(f"{value:.3f}" if value is not None else "–")
        cells.append(f"{value - first:+.3f}" if value is not None and first is not None else "")
    return cells


def curves_figure(result: dict, lang: str) -> go.Figure:
    """Training and validation loss of every run, overlaid; one line style per run."""
    fig = go.Figure()
    for n, run in enumerate(result["runs"]):
        curves = result["curves"][run["id"]]
        for key, color in (("train_loss", "#2563eb"), ("validation_loss", "#ea580c"), ("validation_macro_f1", "#9333ea")):
            points = curves[key]
            if not points:
                continue
            xs, ys = thin([p[0] for p in points], [p[1] for p in points])
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers" if key != "train_loss" else "lines",
                                     name=f"{run['id']} · {t('compare_' + key, lang)}",
                                     line={"color": color, "dash": DASHES[n % len(DASHES)]},
                                     yaxis="y2" if key == "validation_macro_f1" else "y"))
    if not fig.data:
        return empty_figure(t("compare_no_curves", lang))
    fig.update_layout(height=380, margin={"l": 50, "r": 50, "t": 30, "b": 40}, legend={"orientation": "h", "y": -0.2},
                      xaxis={"title": t("compare_step", lang)}, yaxis={"title": t("plot_loss", lang)},
                      yaxis2={"title": t("plot_macro_f1", lang), "overlaying": "y", "side": "right", "range": [0, 1]})
    return fig


def examples_table(result: dict, lang: str) -> tuple[pd.DataFrame, str]:
    """The texts each later run fixed and broke against the first, with a heading that counts them."""
    names = {r["id"]: r["name"] for r in result["runs"]}
    rows, headings = [], []
    for p in result["pairs"]:
        if not p["shared_test"]:
            continue
        for key, texts in (("compare_fixed", p["fixed"]), ("compare_broke", p["broken"])):
            sentence = core.t(key, lang, a=names[p["a"]], b=names[p["b"]], count=len(texts))
            headings.append(sentence)
            rows += [[p["b"], t(key + "_short", lang), text] for text in texts[:SHOWN_TEXTS]]
    frame = pd.DataFrame(rows, columns=[t("compare_run", lang), t("compare_change", lang), t("compare_text", lang)])
    return frame, "  \n".join(headings)


def run_compare(studio: Studio, run_ids: list[str] | None, lang: str):
    """(verdict, settings, scores, curves, examples heading, examples) for the picked runs."""
    runs = [run for run in (studio.find_run(i) for i in run_ids or []) if run is not None]
    if len(runs) < 2:
        return (t("compare_pick", lang), None, None, empty_figure(t("compare_pick", lang)), "", None)
    result = core.compare(runs)
    examples, heading = examples_table(result, lang)
    verdict = "\n\n".join(core.sentences(result, lang))
    return (verdict, settings_table(result, lang), scores_table(result, lang), curves_figure(result, lang),
            heading, examples)


# --- the panel ---------------------------------------------------------------------------------
class ComparePanel:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        with gr.Accordion(I18N("compare_title"), open=False, elem_id="compare-panel"):
            with gr.Row(equal_height=True):
                self.picked = gr.Dropdown([], multiselect=True, label=I18N("compare_runs"),
                                          info=I18N("compare_runs_info"), scale=4, elem_id="compare-runs")
                self.button = gr.Button(I18N("compare_button"), variant="primary", scale=1, elem_id="compare-button")
            self.verdict = gr.Markdown(elem_id="compare-verdict")
            self.scores = gr.Dataframe(interactive=False, wrap=True, label=I18N("compare_scores"), elem_id="compare-scores")
            self.curves = gr.Plot(label=I18N("compare_curves"), elem_id="compare-curves")
            self.settings = gr.Dataframe(interactive=False, wrap=True, max_height=360, label=I18N("compare_settings"),
                                         elem_id="compare-settings")
            self.heading = gr.Markdown(elem_id="compare-heading")
            self.examples = gr.Dataframe(interactive=False, wrap=True, max_height=360, label=I18N("compare_examples"),
                                         elem_id="compare-examples")

    def wire(self, lang: gr.components.Component, refresh_events: list) -> None:
        studio = self.studio

        def choices(current):
            ids = [run.id for run in list_runs(studio.runs_dir) if run.metrics()]
            return gr.update(choices=ids, value=[i for i in current or [] if i in ids])

        for event in refresh_events:
            event(choices, [self.picked], [self.picked], show_progress="hidden")
        self.button.click(lambda ids, lang: run_compare(studio, ids, lang), [self.picked, lang],
                          [self.verdict, self.settings, self.scores, self.curves, self.heading, self.examples],
                          api_name="compare_runs")
