"""The public demo: only classify and feedback can be reached, no uploads, offline share says so plainly."""
import json
import shutil

import httpx
import pytest

from studio import card, feedback, security, sharing
from studio.runs import Run
from studio.ui import demo, serve, share_controls
from studio.ui.context import Studio

OFFLINE_SENTENCE = "Could not create a public link (no internet connection or the share tunnel is blocked)"


def _offline_tunnel(*args, **kwargs):
    raise RuntimeError("Could not get share link from Gradio API Server.")  # what gradio raises with no network


@pytest.fixture(scope="module")
def run_dir(tiny_run_dir, tmp_path_factory):
    """A copy of the trained run, so share.json and feedback.jsonl of these tests stay here."""
    target = tmp_path_factory.mktemp("demo-runs") / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, target)
    return target


@pytest.fixture(scope="module")
def served(run_dir):
    """The demo launched in this process with --share while the tunnel fails as it does offline."""
    said = []
    with pytest.MonkeyPatch.context() as m:
        m.setattr("gradio.networking.setup_tunnel", _offline_tunnel)
        args = demo.parse_args([str(run_dir), "--share", "--port", str(sharing.free_port())])
        blocks = demo.start(args, say=said.append)
    yield blocks, said
    blocks.close(verbose=False)


@pytest.fixture
def http(served):
    with httpx.Client(base_url=served[0].local_url, timeout=30) as client:
        yield client


def test_offline_share_says_so_plainly_and_keeps_serving(served, run_dir, http):
    blocks, said = served
    sentence = f"{OFFLINE_SENTENCE}; the demo is available only at {blocks.local_url}"
    assert said[-1] == sentence and not any("Traceback" in line for line in said)
    record = sharing.read(run_dir)
    assert record["state"] == "serving" and record["public_url"] is None and record["public_note"] == sentence
    config = http.get("/config").json()
    notice = next(c for c in config["components"] if c["props"].get("elem_id") == "share-notice")
    assert notice["props"]["value"] == sentence
    assert http.get("/").status_code == 200


def test_config_lists_only_classify_and_feedback(http):
    config = http.get("/config").json()
    server_functions = [d["api_name"] for d in config["dependencies"] if d["backend_fn"]]
    assert sorted(server_functions) == ["classify", "feedback"]
    assert all(d["queue"] for d in config["dependencies"] if d["backend_fn"])
    assert config["max_file_size"] == 1 and config["footer_links"] == ["gradio"] and not config["run_history"]
    assert not any(c["type"] in ("file", "uploadbutton", "image", "audio", "video") for c in config["components"])


def test_direct_calls_other_than_the_two_functions_fail(http, served):
    blocks = served[0]
    browser_only = next(fn._id for fn in blocks.fns.values() if fn.fn is None)   # the examples' click
    refused = [
        http.post("/gradio_api/run/classify", json={"data": ["hi"]}),              # skips the queue
        http.post("/gradio_api/run/train", json={"data": []}),
        http.post("/gradio_api/call/on_start", json={"data": []}),                  # a studio endpoint name
        http.post("/gradio_api/call/v2/train", json={}),
        http.post("/gradio_api/queue/join", json={"data": [0], "fn_index": browser_only, "session_hash": "x"}),
        http.post("/gradio_api/queue/join", json={"data": [], "fn_index": 99, "session_hash": "x"}),
        http.post("/gradio_api/run-history/connect", json={}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert http.post("/gradio_api/call/classify", json={"data": ["great"]}).status_code == 200


def test_uploads_and_files_are_refused(http, run_dir):
    answer = http.post("/gradio_api/upload", files={"files": ("x.csv", b"a")})
    assert answer.status_code == 403 and "no files" in answer.text
    assert http.get(f"/gradio_api/file={run_dir / 'config.json'}").status_code == 403
    assert http.get("/monitoring").status_code == 403


def test_a_visitor_classifies_and_gives_feedback(served, run_dir):
    from gradio_client import Client
    client = Client(served[0].local_url, verbose=False)
    scores, answer = client.predict("I love it, great quality", api_name="/classify")
    assert {c["label"] for c in scores["confidences"]} == {"negative", "positive"}
    assert f"**{scores['label']}**" in answer
    thanks = client.predict(demo.WRONG, "negative", api_name="/feedback")
    assert thanks.startswith("Thank you")
    record = feedback.read(run_dir)[-1]
    assert record["text"] == "I love it, great quality" and record["predicted"] == scores["label"]
    assert record["verdict"] == "wrong" and record["correct_label"] == "negative"


def test_a_public_link_is_recorded_when_the_tunnel_works(served, monkeypatch):
    monkeypatch.setattr("gradio.networking.setup_tunnel", lambda **kw: "http://abc123.gradio.live")
    assert serve.open_tunnel(served[0]) == ("https://abc123.gradio.live", None)


# --- handlers, without a server ----------------------------------------------------------------
def test_classify_is_rate_limited_per_visitor_with_a_sentence(run_dir):
    run, classifier = demo.open_run(run_dir)
    handlers = demo.Handlers(run, classifier, classify_limit=security.RateLimit(2, 60))
    assert handlers.classify("good", "1.2.3.4")[0] is not None
    assert handlers.classify("good", "1.2.3.4")[0] is not None
    scores, sentence, last = handlers.classify("good", "1.2.3.4")
    assert scores is None and last is None and sentence.startswith("Too many requests")
    assert handlers.classify("good", "5.6.7.8")[0] is not None
    assert handlers.classify("   ", "5.6.7.8")[1] == "Type some text to classify."
    assert handlers.feedback(None, demo.RIGHT, None) == "Classify a text first, then say whether the answer was right."


def test_model_card_and_examples_come_from_the_run(run_dir):
    run = Run(run_dir)
    shown = demo.model_card(run)
    written = (run.model_dir / "README.md").read_text(encoding="utf-8")
    assert card.split(written)[0]["pipeline_tag"] == "text-classification"
    assert shown == card.body(written) and not shown.startswith("---")   # the model folder's card, without the YAML
    assert "`negative`" in shown and "`positive`" in shown and "Test accuracy" in shown and "rows for training" in shown
    assert str(run_dir.parent) not in shown   # no paths of this computer on a public page
    examples = demo.example_texts(run, ["negative", "positive"])
    texts = {row["text"] for row in run.predictions()}
    assert 0 < len(examples) <= demo.EXAMPLE_COUNT and set(examples) <= texts


def test_the_page_shows_the_card_body(http, run_dir):
    config = http.get("/config").json()
    shown = next(c for c in config["components"] if c["props"].get("elem_id") == "model-card")
    written = card.body((run_dir / "model" / "README.md").read_text(encoding="utf-8"))
    assert shown["props"]["value"].strip() == written.strip()   # gradio trims the final newline


def test_a_run_without_a_model_is_refused_with_a_sentence(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    assert demo.main([str(tmp_path)]) == 2
    assert "has no trained model yet" in capsys.readouterr().err


def test_share_controls_describe_each_state(tmp_path):
    studio = Studio.create(tmp_path / "runs")
    assert share_controls.show(studio, None).startswith("**Share a demo**")
    assert share_controls.show(studio, None, "zh-CN").startswith("**分享演示**")
    assert share_controls.share(studio, "no-such-run", True).startswith("⛔")
    serving = {"state": "serving", "local_url": "http://127.0.0.1:1/", "public_url": "https://x.gradio.live"}
    text = share_controls.describe(serving)
    assert "http://127.0.0.1:1/" in text and "https://x.gradio.live" in text
    offline = {**serving, "public_url": None, "public_note": f"{OFFLINE_SENTENCE}; the demo is available only at ..."}
    assert OFFLINE_SENTENCE in share_controls.describe(offline)
    assert "could not" in share_controls.describe({"state": "failed", "message": "The demo could not start: x"})
