"""The studio in the browser: six tabs over one JobManager. build_app() for tests, main() for `studio serve`
(python -m studio serve, python launch.py)."""
from __future__ import annotations

import argparse
import sys

import gradio as gr

from .. import jobs, security
from . import data_tab, model_tab, playground_tab, runs_tab, serve, share_controls
from .context import DEFAULT_MODEL_ENV, Studio
from .data_tab import DataTab
from .evaluate_tab import EvaluateTab
from .i18n import I18N, LANGUAGES, LOAD_JS, SWITCH_JS, t
from .model_tab import ModelTab
from .playground_tab import PlaygroundTab
from .runs_tab import RunsTab
from .style import CSS
from .train_tab import TrainTab

REFIT_CHARTS_JS = "() => { setTimeout(() => window.dispatchEvent(new Event('resize')), 60); }"


def build_app(runs_dir: str = "runs", default_model: str | None = None, device_type: str | None = None) -> gr.Blocks:
    """The whole studio; `app.studio` holds its runs folder, its one JobManager and the device it trains on
    (`device_type`; detected when None), `app.tabs` the Data, Model and Train tabs."""
    studio = Studio.create(runs_dir, default_model, device_type)
    with gr.Blocks(title="Text classifier studio") as app:
        with gr.Row(elem_id="studio-header", equal_height=True):
            title = gr.Markdown(I18N("app_title"), elem_id="studio-title")
            lang = gr.Radio(LANGUAGES, value="en", label=I18N("language"), elem_id="language", scale=0, min_width=200)
        stored_run = gr.BrowserState(None, storage_key="studio-run")  # the run this browser showed, across refreshes
        with gr.Tabs(elem_id="studio-tabs") as tabs:
            with gr.Tab(I18N("tab_data"), id="data", elem_id="tab-data") as data_page:
                data = DataTab(studio)
            with gr.Tab(I18N("tab_model"), id="model", elem_id="tab-model") as model_page:
                model = ModelTab(studio)
            with gr.Tab(I18N("tab_train"), id="train", elem_id="tab-train") as train_page:
                train = TrainTab(studio)
            with gr.Tab(I18N("tab_evaluate"), id="evaluate", elem_id="tab-evaluate") as evaluate_page:
                evaluate = EvaluateTab(studio)
            with gr.Tab(I18N("tab_playground"), id="playground", elem_id="tab-playground") as playground_page:
                playground = PlaygroundTab(studio)
                share_controls.build(studio, playground.run, lang)
            with gr.Tab(I18N("tab_runs"), id="runs", elem_id="tab-runs") as runs_page:
                runs = RunsTab(studio)
        pages = {"tab_data": data_page, "tab_model": model_page, "tab_train": train_page,
                 "tab_evaluate": evaluate_page, "tab_playground": playground_page, "tab_runs": runs_page}

        data.wire(lang, model.model_choice, model.max_length)
        model.wire(lang, data.state)
        reanalyse_inputs = [data.state, data.text_column, data.label_column, model.model_choice, model.max_length, lang]
        model.model_choice.change(data_tab.reanalyse, reanalyse_inputs, data.outputs)  # another tokenizer to measure
        # The doctor's note on long texts counts the max length the run will use, also when the page set it.
        model.max_length.change(data_tab.reanalyse_if_length_changed, reanalyse_inputs, data.outputs,
                                trigger_mode="always_last", show_progress="hidden")
        train.wire(lang, stored_run, data.state, model.settings)
        model.estimate.change(lambda text: text, [model.estimate], [train.plan], show_progress="hidden")
        evaluate.wire(lang, train.viewed_run, train.run_key)
        playground.wire(lang, train.run_key, train.viewed_run)
        runs.wire(lang, tabs, train.viewed_run, stored_run, train.run_key, playground.run)

        # Charts updated while their tab was hidden were laid out at a guessed width: let them fit again.
        for page in pages.values():
            page.select(None, None, None, js=REFIT_CHARTS_JS)

        relabel_model_inputs = [*model.relabel_inputs, data.state]
        lang.change(None, [lang], None, js=SWITCH_JS)
        # Tab titles of tabs not opened yet keep their first translation in the browser: set them here.
        lang.change(lambda lang: tuple(gr.Tab(label=t(key, lang)) for key in pages), [lang], list(pages.values()),
                    show_progress="hidden")
        lang.change(lambda view, lang: data_tab.render(view, lang), [data.state, lang], data.outputs[1:],
                    show_progress="hidden")
        lang.change(lambda *values: model_tab.relabel(*values, runs_dir=studio.runs_dir), [*relabel_model_inputs, lang],
                    model.relabel_outputs(), show_progress="hidden")

        def on_load(remembered, *settings):
            *settings, lang = settings
            run_id = studio.run_to_show(remembered)
            table, choices = runs_tab.table_and_choices(studio, None, lang)
            return (lang, run_id, run_id, playground_tab.refresh(studio, None), table, choices,
                    *model_tab.relabel(*settings, lang, runs_dir=studio.runs_dir),
                    gr.update(elem_classes=["studio-loaded"]))  # a mark browser tests wait for

        app.load(on_load, [stored_run, *relabel_model_inputs, lang],
                 [lang, train.viewed_run, stored_run, playground.run, runs.table, runs.selected,
                  *model.relabel_outputs(), title], js=LOAD_JS)
    app.studio = studio
    app.tabs = {"data": data, "model": model, "train": train}  # for tests that drive the page's handlers
    return app


def launch_options() -> dict:
    """What every launch of the studio needs: its translations and style (Gradio 6 takes both in launch())."""
    return {"i18n": I18N, "css": CSS, "footer_links": [], "run_history": False, "ssr_mode": False,
            "show_error": True}  # an error no handler foresaw still reaches the page as its message


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **options):
    """Launch with the studio's options (`options` add to or override them); (local URL, public URL, why none)."""
    settings = {"max_file_size": security.upload_limit_bytes(None), **launch_options(), **options}
    return serve.launch(app, server_name=host, server_port=port, **settings)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="studio serve", description="Start the text classifier studio in the browser.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network interface)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--runs-dir", default="runs", help="where runs are kept (default: ./runs)")
    security.add_arguments(p)  # --share, --auth, --max-upload-mb
    p.add_argument("--default-model", help=f"the model pre-selected in the Model tab (also: ${DEFAULT_MODEL_ENV})")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = serve.studio_launch(args.share, args.auth, args.host, args.max_upload_mb,
                                   say=lambda sentence: print(sentence, file=sys.stderr), runs_dir=args.runs_dir)
    if settings is None:
        return 2
    app = build_app(args.runs_dir, args.default_model)
    serve.interrupt_on_sigterm()  # SIGTERM shuts down like Ctrl-C: training stops at a step boundary
    jobs.warm_up_in_background()  # the training processes' fork server imports torch before the first Start
    try:
        launch(app, args.host, args.port, share=args.share, **settings)
    except OSError as err:
        print(f"Could not start on {args.host}:{args.port} ({err}); is another studio running? "
              "Pick another port with --port.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    serve.stop_training(app.studio.manager, say=lambda sentence: print(sentence, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
