"""Plotly figures for the studio: training curves from run events, label counts, test metrics.

Plain plotly, no gradio: a script or a notebook can draw the same charts from a run folder.
Every function takes an optional `text` dict of axis titles and legend names, so a caller can
show them in another language; English is the default.
"""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

MAX_POINTS = 300   # a browser redraws the whole figure on every update: long curves are thinned to this

TEXT = {
    "epoch": "Epoch", "loss": "Loss (lower is better)", "training_loss": "Training loss",
    "validation_loss": "Validation loss", "score": "Score (higher is better)",
    "accuracy": "Accuracy", "macro_f1": "Macro-F1", "examples": "Examples", "label": "Label",
    "true": "True label", "predicted": "Predicted label", "probability": "Probability",
    "no_curves": "The curves appear here once training starts.",
    "no_scores": "Validation scores appear after the first evaluation.",
}

COLORS = {"train": "#2563eb", "validation": "#ea580c", "accuracy": "#16a34a", "f1": "#9333ea", "bar": "#2563eb"}


def _words(text: dict | None) -> dict:
    return {**TEXT, **(text or {})}


def thin(xs: Sequence[float], ys: Sequence[float], max_points: int = MAX_POINTS) -> tuple[list, list]:
    """At most max_points points, evenly spaced, always keeping the first and the last."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    stride = (n - 1) / (max_points - 1)
    index = sorted({round(i * stride) for i in range(max_points)})
    return [xs[i] for i in index], [ys[i] for i in index]


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    fig.update_layout(template="plotly_white", height=height, margin=dict(l=60, r=20, t=40, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
                      hovermode="x unified")
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def empty_figure(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#6b7280"),
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(template="plotly_white", height=height, margin=dict(l=20, r=20, t=20, b=20))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _epoch_axis(fig: go.Figure, epochs: float | None) -> None:
    """With the planned number of epochs known, the x axis spans the whole run and the curve grows along it."""
    if epochs:
        fig.update_xaxes(range=[0, epochs * 1.02])


def loss_figure(steps: Sequence[dict], evals: Sequence[dict], text: dict | None = None,
                epochs: float | None = None) -> go.Figure:
    """Training loss per logged step and validation loss per evaluation, against the epoch."""
    w = _words(text)
    if not steps and not evals:
        return empty_figure(w["no_curves"])
    fig = go.Figure()
    if steps:
        xs, ys = thin([s["epoch"] for s in steps], [s["loss"] for s in steps])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines" if len(xs) > 30 else "lines+markers",
                                 name=w["training_loss"], line=dict(color=COLORS["train"], width=2),
                                 marker=dict(size=5)))
    if evals:
        fig.add_trace(go.Scatter(x=[e["epoch"] for e in evals], y=[e["loss"] for e in evals], mode="lines+markers",
                                 name=w["validation_loss"], line=dict(color=COLORS["validation"], width=2),
                                 marker=dict(size=8)))
    fig.update_yaxes(rangemode="tozero")
    _epoch_axis(fig, epochs)
    return _layout(fig, w["epoch"], w["loss"])


def metric_figure(evals: Sequence[dict], text: dict | None = None, epochs: float | None = None) -> go.Figure:
    """Validation accuracy and macro-F1 at each evaluation; the best one is marked with a star."""
    w = _words(text)
    if not evals:
        return empty_figure(w["no_scores"])
    xs = [e["epoch"] for e in evals]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=[e["accuracy"] for e in evals], mode="lines+markers", name=w["accuracy"],
                             line=dict(color=COLORS["accuracy"], width=2), marker=dict(size=8)))
    fig.add_trace(go.Scatter(x=xs, y=[e["macro_f1"] for e in evals], mode="lines+markers", name=w["macro_f1"],
                             line=dict(color=COLORS["f1"], width=2), marker=dict(size=8)))
    best = [e for e in evals if e.get("best")]
    if best:
        top = best[-1]
        fig.add_trace(go.Scatter(x=[top["epoch"]], y=[top["macro_f1"]], mode="markers", showlegend=False,
                                 hoverinfo="skip", marker=dict(symbol="star", size=16, color=COLORS["f1"])))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    _epoch_axis(fig, epochs)
    return _layout(fig, w["epoch"], w["score"])


def label_distribution(label_counts: dict[str, int], text: dict | None = None, max_labels: int = 40) -> go.Figure:
    """How many examples each label has, largest first (the rest summed when there are very many)."""
    w = _words(text)
    items = sorted(label_counts.items(), key=lambda kv: -kv[1])
    if len(items) > max_labels:
        rest = sum(n for _, n in items[max_labels - 1:])
        items = items[:max_labels - 1] + [(f"… {len(items) - max_labels + 1} more", rest)]
    labels = [str(k) for k, _ in items][::-1]
    counts = [n for _, n in items][::-1]
    fig = go.Figure(go.Bar(x=counts, y=labels, orientation="h", marker_color=COLORS["bar"],
                           text=counts, textposition="auto"))
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(range=[0, max(counts) * 1.08])  # fixed, so a chart drawn in a hidden tab is not cut off
    return _layout(fig, w["examples"], "", height=max(220, 60 + 24 * len(items)))


def confusion_heatmap(report: dict, text: dict | None = None) -> go.Figure:
    """The confusion matrix: rows are the true labels, columns the predicted ones, counts in the cells."""
    w = _words(text)
    labels = [str(x) for x in report["labels"]]
    matrix = report["confusion_matrix"]
    # Colour by each row's share, so a small class's mistakes show as clearly as a big one's.
    shares = [[c / max(1, sum(row)) for c in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=shares, x=labels, y=labels, text=matrix, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, zmax=1, showscale=False,
                               hovertemplate=f"{w['true']}: %{{y}}<br>{w['predicted']}: %{{x}}<br>"
                                             f"{w['examples']}: %{{text}}<extra></extra>"))
    size = max(320, min(900, 120 + 40 * len(labels)))
    _layout(fig, w["predicted"], w["true"], height=size)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig


def probability_bars(scores: dict[str, float], text: dict | None = None) -> go.Figure:
    """Every label's probability for one text, highest on top."""
    w = _words(text)
    items = sorted(scores.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[p for _, p in items], y=[str(k) for k, _ in items], orientation="h",
                           marker_color=COLORS["bar"], text=[f"{p:.0%}" for _, p in items], textposition="auto"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(hovermode="closest")
    return _layout(fig, w["probability"], "", height=max(200, 60 + 28 * len(items)))
