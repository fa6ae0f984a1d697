"""Tab 6, Runs: every run in the runs folder; open one, download its model as a zip, delete it."""
from __future__ import annotations

import time
import zipfile

import gradio as gr
import pandas as pd

from ..runs import delete_run, describe_method, list_runs
from . import compare, export_controls
from .context import Studio, model_label
from .i18n import I18N, STRINGS, duration_text, plain, t
from .playground_tab import refresh as refresh_playground
from .train_tab import restart_run, resume_run, run_actions

COLUMNS = ("col_run", "col_name", "col_state", "col_model", "col_method", "col_data", "col_best_validation",
           "col_test_accuracy", "col_duration")


# --- handlers ----------------------------------------------------------------------------------
def method_text(run, lang: str) -> str:
    """How much of the model a run trained, in the page's language (the core words it in both)."""
    return describe_method(run.config(), run.metrics(), lang)


def accuracy_text(row: dict) -> str:
    """The test accuracy, marked when it is misleading (the Evaluate tab says why)."""
    if row["test_accuracy"] is None:
        return ""
    return f"{'⚠️ ' if row['warnings'] else ''}{row['test_accuracy']:.1%}"


def duration_cell(row: dict, status: dict, lang: str) -> str:
    """How long a run took; for a run in progress, how long it has been going (not the "0 s" of its last write)."""
    if row["state"] == "running" and status.get("started"):
        return t("runs_elapsed", lang, duration=duration_text(time.time() - status["started"], lang))
    if row["state"] == "queued":
        return ""
    return duration_text(row["duration_s"], lang) if row["duration_s"] is not None else ""


def state_cell(state: str, lang: str) -> str:
    return t("state_" + state, lang) if f"state_{state}" in STRINGS else state


def runs_frame(studio: Studio, lang: str) -> pd.DataFrame:
    rows = []
    for run in list_runs(studio.runs_dir):
        r = run.summary()
        rows.append([r["id"], r["name"], state_cell(r["state"], lang), model_label(r["model"]),
                     method_text(run, lang), r["data"],
                     f"{r['best_validation']:.3f}" if r["best_validation"] is not None else "",
                     accuracy_text(r), duration_cell(r, run.status(), lang)])
    return pd.DataFrame(rows, columns=[t(c, lang) for c in COLUMNS])


def run_ids(studio: Studio) -> list[str]:
    return [run.id for run in list_runs(studio.runs_dir)]


def zip_model(studio: Studio, run_id: str | None, lang: str) -> tuple[str | None, str]:
    """(a zip of the run's model folder, a sentence). Unzipped, the folder loads with transformers.pipeline."""
    run = studio.find_run(run_id)
    if run is None:
        return None, t("runs_pick", lang)
    if not run.has_model():
        return None, t("runs_no_model", lang, run=plain(run.id))
    target = studio.downloads_dir / f"{run.id}-model.zip"
    folder = f"{run.id}-model"
    tmp = target.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run.model_dir.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder}/{path.relative_to(run.model_dir).as_posix()}")
    tmp.replace(target)
    return str(target), t("runs_zip_ready", lang, folder=plain(folder))


def remove_run(studio: Studio, run_id: str | None, lang: str) -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("runs_pick", lang)
    if studio.manager.is_active(run.id):
        return t("runs_delete_active", lang)
    try:
        delete_run(studio.runs_dir, run.id)
    except (RuntimeError, OSError) as err:
        return f"⛔ {err}"
    return t("runs_deleted", lang, run=plain(run.id))


def table_and_choices(studio: Studio, current: str | None, lang: str):
    ids = run_ids(studio)
    return runs_frame(studio, lang), gr.update(choices=ids, value=current if current in ids else None)


# --- the tab -----------------------------------------------------------------------------------
class RunsTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("runs_intro"))
        self.table = gr.Dataframe(interactive=False, wrap=True, max_height=420, show_label=False, elem_id="runs-table",
                                  column_widths=["15%", "14%", "8%", "13%", "11%", "15%", "8%", "8%", "8%"])
        with gr.Row(equal_height=True):
            self.selected = gr.Dropdown([], label=I18N("runs_selected"), info=I18N("runs_selected_info"), scale=3,
                                        allow_custom_value=True, elem_id="runs-selected")  # checked by find_run
            self.refresh = gr.Button(I18N("runs_refresh"), elem_id="runs-refresh", scale=1)
        with gr.Row():
            self.open = gr.Button(I18N("runs_open"), variant="primary", elem_id="runs-open")
            self.zip = gr.Button(I18N("runs_zip"), elem_id="runs-zip")
            self.restart = gr.Button(I18N("runs_restart"), elem_id="runs-restart", visible=False)
            self.resume = gr.Button(I18N("runs_resume"), elem_id="runs-resume", visible=False)
            self.delete = gr.Button(I18N("runs_delete"), variant="stop", elem_id="runs-delete")
        with gr.Row(visible=False) as self.confirm_row:
            self.confirm_text = gr.Markdown(elem_id="runs-confirm-text")
            self.confirm = gr.Button(I18N("runs_confirm_delete"), variant="stop", elem_id="runs-confirm-delete")
            self.cancel = gr.Button(I18N("runs_cancel_delete"), elem_id="runs-cancel-delete")
        self.message = gr.Markdown(elem_id="runs-message")
        self.download = gr.File(label=I18N("runs_download"), interactive=False, visible=False,
                                elem_id="runs-download")
        self.export_controls = export_controls.ExportControls(studio)
        self.compare_panel = compare.ComparePanel(studio)

    def wire(self, lang, tabs: gr.Tabs, viewed_run: gr.State, stored_run: gr.BrowserState, run_key: gr.State,
             playground_run: gr.Dropdown) -> None:
        studio = self.studio
        table_outputs = [self.table, self.selected]

        def on_select(event: gr.SelectData):
            row = event.row_value or []  # the clicked row; its first cell is the run id
            return row[0] if row and studio.find_run(str(row[0])) else gr.skip()

        def on_open(run_id, lang):
            run = studio.find_run(run_id)
            if run is None:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), t("runs_pick", lang)
            playground = refresh_playground(studio, None, run.id) if run.has_model() else gr.skip()
            return run.id, run.id, playground, gr.Tabs(selected="train"), t("runs_opened", lang, run=plain(run.id))

        def on_zip(run_id, lang):
            path, message = zip_model(studio, run_id, lang)
            return gr.update(value=path, visible=path is not None), message

        def on_delete(run_id, lang):
            if not studio.find_run(run_id):
                return gr.update(visible=False), "", t("runs_pick", lang)
            return gr.update(visible=True), t("runs_confirm_question", lang, run=plain(run_id)), ""

        def on_confirm(run_id, viewed, lang):
            message = remove_run(studio, run_id, lang)
            table, choices = table_and_choices(studio, None, lang)
            still_there = studio.find_run(viewed)
            viewed = viewed if still_there else studio.run_to_show(None)
            return gr.update(visible=False), message, table, choices, viewed, viewed

        def on_selected(run_id):
            shown = run_actions(studio, run_id)
            return gr.update(visible=shown["restart"]), gr.update(visible=shown["resume"])

        def on_again(action):
            def handler(run_id, lang):
                message, new = action(studio, run_id, lang)
                if not new:
                    return message, gr.skip(), gr.skip(), gr.skip()
                return message, new, new, gr.Tabs(selected="train")
            return handler


        self.export_controls.wire(self.selected, lang)
        self.compare_panel.wire(lang, [self.refresh.click, run_key.change, self.compare_panel.picked.focus])
        self.table.select(on_select, None, [self.selected])
        self.selected.change(on_selected, [self.selected], [self.restart, self.resume], show_progress="hidden")
        run_key.change(on_selected, [self.selected], [self.restart, self.resume], show_progress="hidden")
        self.restart.click(on_again(restart_run), [self.selected, lang], [self.message, viewed_run, stored_run, tabs],
                           api_name="restart_from_runs")
        self.resume.click(on_again(resume_run), [self.selected, lang], [self.message, viewed_run, stored_run, tabs],
                          api_name="resume_from_runs")
        self.refresh.click(lambda current, lang: table_and_choices(studio, current, lang), [self.selected, lang],
                           table_outputs, api_name="list_runs")
        run_key.change(lambda current, lang: table_and_choices(studio, current, lang), [self.selected, lang],
                       table_outputs, show_progress="hidden")
        lang.change(lambda current, lang: table_and_choices(studio, current, lang), [self.selected, lang],
                    table_outputs, show_progress="hidden")
        self.open.click(on_open, [self.selected, lang], [viewed_run, stored_run, playground_run, tabs, self.message],
                        api_name="open_run")
        self.zip.click(on_zip, [self.selected, lang], [self.download, self.message], api_name="download_model")
        self.delete.click(on_delete, [self.selected, lang], [self.confirm_row, self.confirm_text, self.message])
        self.cancel.click(lambda: gr.update(visible=False), None, [self.confirm_row])
        self.confirm.click(on_confirm, [self.selected, viewed_run, lang],
                           [self.confirm_row, self.message, self.table, self.selected, viewed_run, stored_run],
                           api_name="delete_run")
