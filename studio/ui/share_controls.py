"""The studio's "Share demo" and "Stop sharing" buttons: a separate demo process per run, its local and public link.

The state lives in RUN_DIR/share.json (studio.sharing), so after a page refresh or a studio restart the
controls show the demo that is still running. Placed in the Playground or Runs tab with

    share_controls.build(studio, run_dropdown, lang)

where `run_dropdown` holds a run id and `lang` the page's language.
"""
from __future__ import annotations

import gradio as gr

from .. import sharing
from .context import Studio
from .i18n import I18N, t

# --- handlers: plain values in and out ---------------------------------------------------------
def describe(status: dict, lang: str = "en") -> str:
    state = status.get("state", "off")
    if state == "serving":
        lines = [t("share_running", lang, url=status.get("local_url"))]
        if status.get("public_url"):
            lines.append(t("share_public_link", lang, url=status["public_url"]))
        elif status.get("public_note"):
            lines.append(f"⚠️ {status['public_note']}")
        elif status.get("public_requested"):
            lines.append(t("share_pending", lang))
        return "  \n".join(lines)
    if state == "starting":
        return t("share_starting", lang)
    if state == "failed":
        return f"⛔ {status.get('message')}"
    if state == "stopped" and status.get("message"):
        return f"{status['message']} {t('share_intro', lang)}"
    return t("share_intro", lang)


def show(studio: Studio, run_id: str | None, lang: str = "en") -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("share_intro", lang)
    return describe(sharing.status(run.path), lang)


def share(studio: Studio, run_id: str | None, public: bool = True, lang: str = "en", examples: str = "") -> str:
    """Start the demo; `examples` holds the texts the owner wrote for visitors to click, one a line."""
    run = studio.find_run(run_id)
    if run is None:
        return t("share_pick", lang)
    try:
        return describe(sharing.start(run.path, public=public, examples=(examples or "").splitlines()), lang)
    except sharing.SharingError as err:
        return f"⛔ {err}"


def stop(studio: Studio, run_id: str | None, lang: str = "en") -> str:
    run = studio.find_run(run_id)
    if run is None:
        return t("share_intro", lang)
    return describe(sharing.stop(run.path), lang)


# --- the controls ------------------------------------------------------------------------------
def build(studio: Studio, run_dropdown: gr.components.Component, lang: gr.components.Component) -> gr.Markdown:
    with gr.Group():
        links = gr.Markdown()  # written by handlers in the page's language
        public = gr.Checkbox(True, label=I18N("share_public"))
        examples = gr.Textbox(label=I18N("share_examples"), info=I18N("share_examples_info"), lines=2)
        with gr.Row():
            share_button = gr.Button(I18N("share_button"), variant="primary", size="sm")
            stop_button = gr.Button(I18N("share_stop"), size="sm")
    share_button.click(lambda run_id, p, lang, e: share(studio, run_id, p, lang, e), [run_dropdown, public, lang, examples],
                       links)
    stop_button.click(lambda run_id, lang: stop(studio, run_id, lang), [run_dropdown, lang], links)
    for event in (run_dropdown.change, lang.change):
        event(lambda run_id, lang: show(studio, run_id, lang), [run_dropdown, lang], links, concurrency_limit=None,
              show_progress="hidden")
    return links
