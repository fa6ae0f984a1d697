"""A public demo of one trained run: type a text, see the label, say whether it was right. Nothing else.

    studio demo RUN_DIR [--share] [--port P] [--host H]     (or python -m studio demo ..., python launch.py demo ...)

In Gradio every event listener of an app can be called over HTTP, whatever the page shows. So the demo is its
own small app in its own process, with exactly two functions (classify and feedback) and no upload, file
access or training; its queue refuses direct API calls, uploads are refused, monitoring and run history are
off, the runs folder and the upload cache are blocked, and classify is rate limited per visitor and for all
visitors together. Beside the page it answers POST /api/v1/classify (studio.ui.rest), limited the same way.

It publishes nothing of the run's data by default: no example texts unless the owner writes them (--example)
or asks for a few test texts (--test-examples), and no run id in the title.

The page speaks the visitor's browser language (English or Simplified Chinese, studio.ui.i18n's demo_ keys): the
browser translates the static words, and a hidden language box, set in the browser on load (no server call),
tells classify and feedback which language to answer in. The run's name, labels and model card stay as written.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from .. import card, examples, feedback, security, sharing
from ..inference import Classifier, InferenceError, load_classifier
from ..models import ModelError, check_weights
from ..runs import Run
from . import rest, serve
from .i18n import BROWSER_LANGUAGE_JS, DEMO_I18N, I18N, t

CLASSIFY_PER_MINUTE = 30          # per visitor
CLASSIFY_ALL_PER_MINUTE = 300     # all visitors together: about 3 s of a 2-core CPU a minute for short texts
FEEDBACK_PER_MINUTE = 30
FEEDBACK_ALL_PER_MINUTE = 300
EXAMPLE_COUNT = 4
EXAMPLE_CHARS = 300
RIGHT, WRONG = "Yes, right", "No, wrong"
FUNCTIONS = ("classify", "feedback")   # all a visitor can call


class DemoError(ValueError):
    """The run cannot be shown as a demo; the message says why."""


# --- what the page shows -----------------------------------------------------------------------
def open_run(run_dir: str | Path, backend: str = "auto") -> tuple[Run, Classifier]:
    run = Run(Path(run_dir).resolve())
    if not (run.path / "config.json").exists():
        raise DemoError(f"{run.path} is not a run folder of the studio (it has no config.json).")
    if not run.has_model():
        raise DemoError(f"The run {run.id} has no trained model yet; share a run that finished training.")
    check_weights(str(run.model_dir))  # safetensors only: pickle weights can run code when loaded
    return run, load_classifier(run.model_dir, backend=backend)


def title_of(run: Run) -> str:
    """The name the user gave the run; never its id (a visitor has no use for it)."""
    return run.config().name or "Text classifier"


def model_card(run: Run) -> str:
    """The run's model card (studio.card, as in model/README.md) without its YAML front matter."""
    return card.body(card.for_run(run.path))


def example_texts(run: Run, labels: list[str], count: int = EXAMPLE_COUNT) -> list[str]:
    """A few test texts of the run, one label after another (only with --test-examples)."""
    return examples.example_texts(run, count, EXAMPLE_CHARS, labels)


# --- the two functions a visitor can call -------------------------------------------------------
class Handlers:
    """classify and feedback, with plain values in and out; a rate limit per visitor on both."""

    def __init__(self, run: Run, classifier: Classifier, classify_limit: security.RateLimit | None = None,
                 feedback_limit: security.RateLimit | None = None) -> None:
        self.run, self.classifier = run, classifier
        self.classify_limit = classify_limit or security.RateLimit(CLASSIFY_PER_MINUTE, 60, total=CLASSIFY_ALL_PER_MINUTE)
        self.feedback_limit = feedback_limit or security.RateLimit(FEEDBACK_PER_MINUTE, 60, total=FEEDBACK_ALL_PER_MINUTE)
        self.sessions = security.VisitorSessions()   # the page's visitor cookies (serve.DemoGuard hands them out)

    def classify(self, text: str, visitor: str = "local", lang: str = "en") -> tuple[dict | None, str, dict | None]:
        """(every label's probability, a sentence in `lang`, what was classified: kept for the feedback)."""
        if not self.classify_limit.allow(visitor):
            return None, t("demo_too_many", lang, limit=self.classify_limit.limit), None
        if not (text or "").strip():
            return None, t("demo_type_text", lang), None
        text = text[:feedback.MAX_TEXT_CHARS]
        try:
            prediction = self.classifier.predict_one(text)
        except InferenceError as err:
            return None, t("demo_failed", lang, error=err), None
        scores = dict(prediction.scores)
        sentence = (t("demo_result", lang, label=prediction.label, confidence=f"{prediction.confidence:.0%}") + " "
                    + t("demo_guess", lang, n=len(scores), guess=f"{1 / max(1, len(scores)):.0%}"))
        return scores, sentence, {"text": text, "label": prediction.label}

    def feedback(self, last: dict | None, verdict: str | None, correct: str | None, visitor: str = "local",
                 lang: str = "en") -> str:
        if not self.feedback_limit.allow(visitor):
            return t("demo_too_many_answers", lang)
        if not last:
            return t("demo_classify_first", lang)
        if verdict not in (RIGHT, WRONG):
            return t("demo_choose_verdict", lang)
        if verdict == WRONG and correct and correct not in self.classifier.labels:
            return t("demo_not_a_label", lang, label=repr(correct))
        try:
            feedback.append(self.run.path, last["text"], last["label"], "right" if verdict == RIGHT else "wrong",
                            correct, labels=self.classifier.labels)
        except feedback.FeedbackError:
            return t("demo_feedback_full", lang)  # the one refusal left once the checks above passed
        return t("demo_thanks", lang)


def _visitor(request: gr.Request | None, sessions: security.VisitorSessions) -> str:
    if request is None or request.client is None:
        return "local"
    return security.visitor_key(request.client.host, request.headers.get("x-forwarded-for"),
                                request.cookies.get(security.VISITOR_COOKIE), sessions)


# --- the page ----------------------------------------------------------------------------------
def build(run: Run, classifier: Classifier, handlers: Handlers | None = None,
          public_requested: bool = False, examples: list[str] | None = None) -> gr.Blocks:
    """The page; `examples` are the texts offered to click (none unless the owner gives them)."""
    handlers = handlers or Handlers(run, classifier)
    labels = classifier.labels
    examples = [e.strip()[:EXAMPLE_CHARS] for e in examples or [] if e and e.strip()]
    with gr.Blocks(title=title_of(run), analytics_enabled=False) as blocks:
        # The run's name as the user wrote it; the rest in the visitor's browser language.
        name = run.config().name
        gr.Markdown(f"# {name}" if name else I18N("demo_default_title"), elem_id="demo-title")
        gr.Markdown(I18N("demo_intro"))
        notice = gr.Markdown(I18N("demo_creating_link"), visible=public_requested, elem_id="share-notice")
        lang = gr.Textbox("en", visible=False, max_length=8, elem_id="demo-language")  # set from the browser on load
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label=I18N("demo_text"), lines=4, max_length=feedback.MAX_TEXT_CHARS,
                                  placeholder=I18N("demo_placeholder"))
                button = gr.Button(I18N("demo_classify"), variant="primary")
                if examples:
                    picker = gr.Dataset(components=["textbox"], samples=[[e] for e in examples],
                                        label=I18N("demo_examples"), type="index")
                    # Runs in the browser only: no server function, so nothing more to call over HTTP.
                    picker.click(None, picker, text, js=f"(i) => {json.dumps(examples)}[i] ?? ''")
            with gr.Column(scale=2):
                scores = gr.Label(label=I18N("demo_probabilities"), num_top_classes=min(len(labels), 10))
                answer = gr.Markdown(elem_id="demo-answer")
                gr.Markdown(I18N("demo_percent_note"))
        with gr.Group():
            verdict = gr.Radio([(I18N("demo_right"), RIGHT), (I18N("demo_wrong"), WRONG)], label=I18N("demo_was_right"))
            correct = gr.Dropdown(labels, value=None, label=I18N("demo_correct"))
            send = gr.Button(I18N("demo_send"), size="sm")
            thanks = gr.Markdown(elem_id="demo-thanks")
        with gr.Accordion(I18N("demo_about"), open=True):
            gr.Markdown(model_card(run), elem_id="model-card")
        last = gr.State(None)

        def classify(text: str, lang: str, request: gr.Request):
            return handlers.classify(text, _visitor(request, handlers.sessions), lang)

        def give_feedback(last: dict | None, verdict: str | None, correct: str | None, lang: str, request: gr.Request):
            return handlers.feedback(last, verdict, correct, _visitor(request, handlers.sessions), lang)

        gr.on([button.click, text.submit], classify, [text, lang], [scores, answer, last], api_name="classify")
        send.click(give_feedback, [last, verdict, correct, lang], thanks, api_name="feedback")
        # Runs in the browser only, like the examples' click: no server function is added.
        blocks.load(None, None, lang, js=BROWSER_LANGUAGE_JS)
    blocks.queue(api_open=False, max_size=64, default_concurrency_limit=1)
    blocks.share_notice = notice  # set once the public link is made or refused (see show_notice)
    blocks.handlers = handlers
    return blocks


def show_notice(blocks: gr.Blocks, text: str) -> None:
    """Put a sentence at the top of the page for every visitor who opens it from now on."""
    blocks.share_notice.value, blocks.share_notice.visible = text, True
    blocks.config = blocks.get_config_file()


def launch_settings(blocks: gr.Blocks, run: Run, host: str = "127.0.0.1", port: int | None = None) -> dict:
    """What keeps the demo to its two functions and the REST route; see the module's docstring."""
    fn_ids = tuple(fn._id for fn in blocks.fns.values() if fn.api_name in FUNCTIONS)
    handlers = blocks.handlers
    guard = Middleware(serve.DemoGuard, names=FUNCTIONS, fn_ids=fn_ids, sessions=handlers.sessions)
    api = rest.demo_api(run.id, handlers.classifier, handlers.sessions, title_of(run))
    return dict(server_name=host, server_port=port, max_file_size=1, enable_monitoring=False, run_history=False,
                footer_links=["gradio"], blocked_paths=[str(run.path.parent), str(security.upload_cache_dir())],
                mcp_server=False, ssr_mode=False, pwa=False, show_error=False, state_session_capacity=1000,
                i18n=DEMO_I18N,
                app_kwargs={"middleware": [Middleware(rest.RestGate, api=api), guard]})


# --- the command line --------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="studio demo", description="Serve a demo of one trained run.")
    parser.add_argument("run_dir", help="the run's folder, e.g. runs/20250101-120000-ab12")
    parser.add_argument("--share", action="store_true", help="also create a public link through Gradio's share service")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: the first free one from 7860)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this computer only)")
    parser.add_argument("--backend", choices=("auto", "torch", "onnx", "onnx-int8"), default="auto",
                        help="auto (default): the ONNX file when `studio export` made one, else PyTorch")
    parser.add_argument("--example", action="append", default=[], metavar="TEXT",
                        help="a text visitors can click to try (repeat for more); by default the page shows none")
    parser.add_argument("--test-examples", action="store_true",
                        help=f"also offer {EXAMPLE_COUNT} texts of the run's test split as examples (they are "
                             "published to every visitor)")
    return parser.parse_args(argv)


def start(args: argparse.Namespace, say=print) -> gr.Blocks:
    """Build and launch the demo, make the public link if asked, record both in RUN_DIR/share.json."""
    run, classifier = open_run(args.run_dir, args.backend)
    examples = list(args.example) + (example_texts(run, classifier.labels) if args.test_examples else [])
    blocks = build(run, classifier, public_requested=args.share, examples=examples)
    settings = launch_settings(blocks, run, args.host, args.port)
    security.believe_forwarded_for_only_from_trusted_proxies()
    blocks.launch(share=False, prevent_thread_lock=True, quiet=True, **settings)
    local_url = blocks.local_url
    own_session = hasattr(os, "getsid") and os.getsid(0) == os.getpid()
    sharing.update(run.path, state="serving", pid=os.getpid(), own_session=own_session, host=args.host,
                   port=blocks.server_port, local_url=local_url, public_requested=args.share, public_url=None,
                   public_note=None, message=None)
    say(f"The demo of {title_of(run)} is running at {local_url}")
    if args.share:
        public_url, note = serve.open_tunnel(blocks)
        sharing.update(run.path, public_url=public_url, public_note=note)
        show_notice(blocks, note or f"Public link: {public_url}")
        say(note or f"Public link: {public_url} (anyone with it can classify text and leave feedback)")
    return blocks


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        blocks = start(args)
    except (DemoError, ModelError, InferenceError) as err:
        print(err, file=sys.stderr)
        return 2
    except OSError as err:  # the port is taken, or the address cannot be used
        print(f"The demo could not start: {err}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # "Stop sharing": close cleanly, exit 0
    run_dir = Path(args.run_dir).resolve()
    try:
        blocks.block_thread()
    finally:
        blocks.close(verbose=False)
        from gradio.tunneling import CURRENT_TUNNELS
        for tunnel in CURRENT_TUNNELS:
            tunnel.kill()
        if sharing.read(run_dir).get("pid") == os.getpid():
            sharing.update(run_dir, state="stopped", local_url=None, public_url=None, message="The demo was closed.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
