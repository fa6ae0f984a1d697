import subprocess
import sys

import plotly.graph_objects as go

from studio import plots


def _steps(n):
    return [{"step": i + 1, "epoch": (i + 1) / 100, "loss": 2.0 / (i + 1)} for i in range(n)]


EVALS = [{"step": 10, "epoch": 1.0, "loss": 0.9, "accuracy": 0.6, "macro_f1": 0.55, "best": True},
         {"step": 20, "epoch": 2.0, "loss": 0.7, "accuracy": 0.7, "macro_f1": 0.68, "best": True},
         {"step": 30, "epoch": 3.0, "loss": 0.8, "accuracy": 0.69, "macro_f1": 0.66, "best": False}]


def test_thin_keeps_ends_and_caps_points():
    xs, ys = plots.thin(list(range(10_000)), list(range(10_000)), max_points=300)
    assert len(xs) <= 300 and xs[0] == 0 and xs[-1] == 9_999
    assert xs == sorted(xs) and xs == ys


def test_thin_leaves_short_curves_alone():
    assert plots.thin([1, 2, 3], [4, 5, 6]) == ([1, 2, 3], [4, 5, 6])


def test_loss_figure_has_training_and_validation_curves_thinned():
    fig = plots.loss_figure(_steps(5_000), EVALS)
    names = [trace.name for trace in fig.data]
    assert names == ["Training loss", "Validation loss"]
    assert len(fig.data[0].x) <= plots.MAX_POINTS
    assert list(fig.data[1].y) == [0.9, 0.7, 0.8]


def test_the_epoch_axis_spans_the_planned_run():
    fig = plots.loss_figure(_steps(3), [], epochs=5)
    assert fig.layout.xaxis.range[0] == 0 and fig.layout.xaxis.range[1] >= 5
    assert plots.metric_figure(EVALS, epochs=4).layout.xaxis.range[1] >= 4


def test_loss_figure_without_events_says_what_will_appear():
    fig = plots.loss_figure([], [])
    assert not fig.data
    assert "once training starts" in fig.layout.annotations[0].text


def test_metric_figure_marks_the_best_evaluation():
    fig = plots.metric_figure(EVALS)
    assert [t.name for t in fig.data[:2]] == ["Accuracy", "Macro-F1"]
    star = fig.data[2]
    assert list(star.x) == [2.0] and star.marker.symbol == "star"


def test_texts_can_be_translated():
    fig = plots.loss_figure(_steps(3), [], {"training_loss": "训练损失", "epoch": "轮次"})
    assert fig.data[0].name == "训练损失"
    assert fig.layout.xaxis.title.text == "轮次"


def test_label_distribution_largest_first_and_folds_the_long_tail():
    fig = plots.label_distribution({"a": 5, "b": 50, "c": 20})
    assert list(fig.data[0].y) == ["a", "c", "b"]  # horizontal bars draw bottom-up: the largest ends on top
    many = plots.label_distribution({f"label{i}": i + 1 for i in range(100)}, max_labels=10)
    assert len(many.data[0].y) == 10 and "more" in many.data[0].y[0]


def test_confusion_heatmap_shows_counts_coloured_by_row_share():
    report = {"labels": ["x", "y"], "confusion_matrix": [[8, 2], [1, 1]]}
    fig = plots.confusion_heatmap(report)
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap)
    assert [list(r) for r in heat.text] == [[8, 2], [1, 1]]
    assert [list(r) for r in heat.z] == [[0.8, 0.2], [0.5, 0.5]]
    assert fig.layout.yaxis.autorange == "reversed"


def test_probability_bars_put_the_most_likely_label_on_top():
    fig = plots.probability_bars({"spam": 0.9, "ham": 0.1})
    assert list(fig.data[0].y) == ["ham", "spam"]


def test_plots_do_not_import_gradio():
    code = "import sys, studio.plots; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
