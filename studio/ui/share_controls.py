"""The studio's "Share demo" and "Stop sharing" buttons: a separate demo process per run, its local and public link.

The state lives in RUN_DIR/share.json (studio.sharing), so after a page refresh or a studio restart the
controls show the demo that is still running. Placed in the Playground or Runs tab with

    share_controls.build(studio, run_dropdown, demo)

where `run_dropdown` holds a run id and `demo` is the studio's gr.Blocks (to show the state on page load).
"""
from __future__ import annotations

import gradio as gr

from .. import sharing
from .context import Studio

INTRO = ("**Share a demo** of the selected run: a separate page where visitors can only classify text and say "
         "whether the answer was right. They cannot upload files, train or see your other runs.")


# --- handlers: plain values in and out ---------------------------------------------------------
def describe(status: dict) -> str:
    state = status.get("state", "off")
    if state == "serving":
        lines = [f"🟢 **Demo running.** Local link (this computer): {status.get('local_url')}"]
        if status.get("public_url"):
            lines.append(f"Public link (anyone who has it can classify text and leave feedback; it lasts up to a "
                         f"week): {status['public_url']}")
        elif status.get("public_note"):
            lines.append(f"⚠️ {status['public_note']}")
        elif status.get("public_requested"):
            lines.append("The public link is still being created; press Share demo again in a moment to see it.")
        return "  \n".join(lines)
    if state == "starting":
        return "⏳ Starting the demo..."
    if state == "failed":
        return f"⛔ {status.get('message')}"
    if state == "stopped" and status.get("message"):
        return f"{status['message']} {INTRO}"
    return INTRO


def show(studio: Studio, run_id: str | None) -> str:
    run = studio.find_run(run_id)
    if run is None:
        return INTRO
    return describe(sharing.status(run.path))


def share(studio: Studio, run_id: str | None, public: bool = True) -> str:
    run = studio.find_run(run_id)
    if run is None:
        return "⛔ Pick a run to share first."
    try:
        return describe(sharing.start(run.path, public=public))
    except sharing.SharingError as err:
        return f"⛔ {err}"


def stop(studio: Studio, run_id: str | None) -> str:
    run = studio.find_run(run_id)
    if run is None:
        return INTRO
    return describe(sharing.stop(run.path))


# --- the controls ------------------------------------------------------------------------------
def build(studio: Studio, run_dropdown: gr.components.Component, blocks: gr.Blocks | None = None) -> gr.Markdown:
    with gr.Group():
        links = gr.Markdown(INTRO)
        public = gr.Checkbox(True, label="Create a public link too (needs internet)")
        with gr.Row():
            share_button = gr.Button("Share demo", variant="primary", size="sm")
            stop_button = gr.Button("Stop sharing", size="sm")
    share_button.click(lambda run_id, p: share(studio, run_id, p), [run_dropdown, public], links)
    stop_button.click(lambda run_id: stop(studio, run_id), run_dropdown, links)
    run_dropdown.change(lambda run_id: show(studio, run_id), run_dropdown, links, concurrency_limit=None,
                        show_progress="hidden")
    if blocks is not None:
        blocks.load(lambda run_id: show(studio, run_id), run_dropdown, links, concurrency_limit=None)
    return links
