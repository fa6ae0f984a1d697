"""The Runs tab's export controls for the selected run: ONNX (optionally int8), push to the Hugging Face Hub, and
send the run to MLflow. The work is done by studio.export, studio.hub and studio.tracking, as on the command line.

Mounted by the Runs tab in two lines: `controls = export_controls.ExportControls(studio)` where they should
appear, and `controls.wire(run_dropdown, lang)` with the dropdown that holds the selected run's id.
"""
from __future__ import annotations

import gradio as gr

from .. import export, hub, tracking
from .context import Studio
from .i18n import I18N, t


# --- handlers: plain values in and out ---------------------------------------------------------
def export_onnx(studio: Studio, run_id: str | None, int8: bool, lang: str = "en") -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("runs_pick", lang)
    if not run.has_model():
        return t("runs_no_model", lang, run=run.id)
    try:
        result = export.export_onnx(run.path, int8=int8)
    except export.ExportError as err:
        return f"⛔ {err}"
    text = t("export_done", lang, path=result["onnx"], mb=result["onnx_mb"], seconds=result["seconds"])
    if int8:
        text += "  \n" + t("export_int8_done", lang, path=result["int8"], mb=result["int8_mb"])
    return text


def push(studio: Studio, run_id: str | None, repo: str, token: str, public: bool, lang: str = "en") -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("runs_pick", lang)
    if not (repo or "").strip():
        return t("push_need_repo", lang)
    try:
        url = hub.push(run.path, repo.strip(), token=(token or "").strip() or None, private=not public)
    except hub.HubError as err:
        return f"⛔ {err}"
    return t("push_done", lang, url=url)


def to_mlflow(studio: Studio, run_id: str | None, lang: str = "en") -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("runs_pick", lang)
    uri = tracking.default_mlflow_uri(studio.runs_dir)
    tracker = tracking.replay(run.path, mlflow_uri=uri)
    if tracker.errors:
        return f"⛔ {tracker.errors[0]}"
    return t("mlflow_done", lang, run=run.id, uri=uri)


# --- the controls ------------------------------------------------------------------------------
class ExportControls:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        with gr.Accordion(I18N("export_title"), open=False, elem_id="export-controls"):
            with gr.Row(equal_height=True):
                self.int8 = gr.Checkbox(False, label=I18N("export_int8"), info=I18N("export_int8_info"), scale=3)
                self.export = gr.Button(I18N("export_button"), elem_id="export-onnx", scale=1)
            with gr.Row(equal_height=True):
                self.repo = gr.Textbox(label=I18N("push_repo"), placeholder="your-name/support-tickets", scale=2)
                self.token = gr.Textbox(label=I18N("push_token"), type="password", scale=2)
                self.public = gr.Checkbox(False, label=I18N("push_public"), scale=1)
                self.push = gr.Button(I18N("push_button"), elem_id="push-hub", scale=1)
            self.mlflow = gr.Button(I18N("mlflow_button"), elem_id="send-mlflow", size="sm")
            self.message = gr.Markdown(elem_id="export-message")

    def wire(self, run_dropdown: gr.components.Component, lang: gr.components.Component) -> None:
        studio = self.studio
        self.export.click(lambda run_id, int8, lang: export_onnx(studio, run_id, int8, lang),
                          [run_dropdown, self.int8, lang], self.message, api_name="export_onnx")
        self.push.click(lambda run_id, repo, token, public, lang: push(studio, run_id, repo, token, public, lang),
                        [run_dropdown, self.repo, self.token, self.public, lang], self.message, api_name="push_hub")
        self.mlflow.click(lambda run_id, lang: to_mlflow(studio, run_id, lang), [run_dropdown, lang], self.message,
                          api_name="send_mlflow")
