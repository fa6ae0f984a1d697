"""Tab 5, Playground: classify typed text or a whole file with a finished run's model."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from .. import data, examples
from ..inference import InferenceError, load_classifier
from ..runs import list_runs
from .context import Studio, model_label, toast_errors
from .i18n import I18N, error_text, plain, t

EXAMPLE_COUNT = 8
EXAMPLE_CHARS = 200


# --- handlers ----------------------------------------------------------------------------------
def run_choices(studio: Studio) -> list[tuple[str, str]]:
    """Finished runs that saved a model, newest first, as (label, run id)."""
    choices = []
    for run in list_runs(studio.runs_dir):
        if run.state not in ("finished", "stopped") or not run.has_model():  # stopped: the best model was kept
            continue
        row = run.summary()
        accuracy = f" · {row['test_accuracy']:.0%}" if row["test_accuracy"] is not None else ""
        name = f"{row['name']} · " if row["name"] else ""
        choices.append((f"{name}{row['id']} · {model_label(row['model'])} · {row['data']}{accuracy}", run.id))
    return choices


def _model_dir(studio: Studio, run_id: str | None) -> Path:
    run = studio.find_run(run_id)
    if run is None or not run.has_model():
        raise InferenceError("no_model")
    return run.model_dir


def classify_text(studio: Studio, run_id: str | None, text: str, lang: str) -> tuple[dict | None, str]:
    """(every label's probability, a sentence) for one text."""
    if not run_id:
        return None, t("play_pick_run", lang)
    if not (text or "").strip():
        return None, t("play_type_text", lang)
    try:
        classifier = load_classifier(_model_dir(studio, run_id))
        prediction = classifier.predict_one(text)
    except InferenceError as err:
        return None, t("play_no_model", lang) if str(err) == "no_model" else f"⛔ {err}"
    except Exception as err:  # a damaged model folder: say so, keep serving
        return None, t("play_failed", lang, error=f"{type(err).__name__}: {str(err)[:200]}")
    scores = dict(prediction.scores)
    explained = t("play_confidence_explained", lang, n=len(scores), guess=f"{1 / max(1, len(scores)):.0%}")
    return scores, t("play_result", lang, label=plain(prediction.label),
                     confidence=f"{prediction.confidence:.0%}") + "\n\n" + explained


def classify_upload(studio: Studio, run_id: str | None, path: str | None, lang: str) -> tuple[str | None, str]:
    """(the classified table as a CSV path, a sentence)."""
    if not path:
        return None, ""
    if not run_id:
        return None, t("play_pick_run", lang)
    out = studio.downloads_dir / f"{Path(path).stem}-classified-{time.strftime('%H%M%S')}{data.output_suffix(path)}"
    try:
        classifier = load_classifier(_model_dir(studio, run_id))
        result = classifier.classify_file(path, out)
    except InferenceError as err:
        return None, t("play_no_model", lang) if str(err) == "no_model" else f"⛔ {err}"
    except data.DataError as err:
        return None, f"⛔ {error_text(err, lang)}"
    except Exception as err:
        return None, t("play_failed", lang, error=f"{type(err).__name__}: {str(err)[:200]}")
    return str(out), t("play_file_done", lang, rows=f"{result['rows']:,}", column=plain(result["text_column"]))


def example_texts(studio: Studio, run_id: str | None, count: int = EXAMPLE_COUNT) -> list[str]:
    """A few test sentences of the run's data, one label after another."""
    run = studio.find_run(run_id)
    return [] if run is None else examples.example_texts(run, count, EXAMPLE_CHARS)


def refresh(studio: Studio, current: str | None, wanted: str | None = None):
    """The run dropdown: keep the current choice if it still exists, else the wanted one, else the newest."""
    choices = run_choices(studio)
    ids = [value for _, value in choices]
    value = wanted if wanted in ids else current if current in ids else (ids[0] if ids else None)
    return gr.update(choices=choices, value=value)


# --- the tab -----------------------------------------------------------------------------------
class PlaygroundTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("play_intro"))
        # Custom values allowed: a run id typed or sent over the API is checked by the handler, not refused.
        self.run = gr.Dropdown([], label=I18N("play_run"), info=I18N("play_run_info"), allow_custom_value=True,
                               elem_id="playground-run")
        with gr.Row():
            with gr.Column(scale=3):
                self.text = gr.Textbox(label=I18N("play_text"), placeholder=I18N("play_text_placeholder"), lines=1,
                                       max_lines=8, elem_id="playground-text")
                self.classify = gr.Button(I18N("play_classify"), variant="primary", elem_id="playground-classify")
                self.examples = gr.Dataset(components=[self.text], samples=[], label=I18N("play_examples"),
                                           elem_id="playground-examples", samples_per_page=8)
            with gr.Column(scale=2):
                self.output = gr.Label(label=I18N("play_output"), num_top_classes=12, elem_id="playground-output")
                self.message = gr.Markdown(elem_id="playground-message")
        with gr.Accordion(I18N("play_file_title"), open=False):
            gr.Markdown(I18N("play_file_info"))
            with gr.Row():
                self.file = gr.File(label=I18N("play_file"), elem_id="playground-file", height=120)
                self.download = gr.File(label=I18N("play_download"), interactive=False,
                                        elem_id="playground-download", height=120)
            self.file_message = gr.Markdown(elem_id="playground-file-message")

    def wire(self, lang: gr.Radio, run_key: gr.State, viewed_run: gr.State) -> None:
        studio = self.studio

        @toast_errors
        def on_classify(run_id, text, lang):
            return classify_text(studio, run_id, text, lang)

        def on_run(run_id):
            return gr.update(samples=[[text] for text in example_texts(studio, run_id)]), None, ""

        @toast_errors
        def on_file(run_id, path, lang):
            return classify_upload(studio, run_id, path, lang)

        self.classify.click(on_classify, [self.run, self.text, lang], [self.output, self.message], api_name="classify")
        self.text.submit(on_classify, [self.run, self.text, lang], [self.output, self.message])
        self.examples.click(lambda sample: sample[0] if sample else "", [self.examples], [self.text]).then(
            on_classify, [self.run, self.text, lang], [self.output, self.message])
        self.run.change(on_run, [self.run], [self.examples, self.output, self.message])
        lang.change(lambda: ("", ""), None, [self.message, self.file_message], show_progress="hidden")
        self.file.upload(on_file, [self.run, self.file, lang], [self.download, self.file_message],
                         api_name="classify_file")
        # A run that just finished (or was opened) becomes the one to try.
        run_key.change(lambda current, viewed: refresh(studio, current, viewed), [self.run, viewed_run], [self.run],
                       show_progress="hidden")
