"""The public demo: only classify and feedback can be reached, no uploads, offline share says so plainly."""
import json
import re
import shutil

import httpx
import pytest

from studio import card, feedback, security, sharing
from studio.runs import Run
from studio.ui import demo, i18n, serve, share_controls
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
        args = demo.parse_args([str(run_dir), "--share", "--port", str(sharing.free_port()),
                                "--example", "An example the owner wrote"])
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
    browser_only = next(fn._id for fn in blocks.fns.values() if fn.fn is None)   # the owner's examples' click
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


# --- what the demo publishes -------------------------------------------------------------------
def test_the_page_and_config_carry_none_of_the_test_texts_nor_the_run_id(http, run_dir):
    page, config = http.get("/").text, http.get("/config").text
    texts = {row["text"] for row in Run(run_dir).predictions()}
    assert texts and not [t for t in texts if t in page or t in config or json.dumps(t)[1:-1] in config]
    assert run_dir.name not in page and run_dir.name not in config
    assert json.loads(config)["title"] == "Tiny reviews"


def test_examples_are_only_those_the_owner_gives(run_dir):
    run, classifier = demo.open_run(run_dir)
    blocks = demo.build(run, classifier, examples=["Typed by the owner", "  "])
    config = json.dumps(blocks.get_config_file(), default=str)
    assert "Typed by the owner" in config
    assert not [row["text"] for row in run.predictions() if row["text"] in config]
    command = sharing.demo_command(run_dir, "127.0.0.1", 1, False, ["Typed by the owner"])
    assert demo.parse_args(command[4:]).example == ["Typed by the owner"]


# --- rate limits that a visitor cannot dodge ---------------------------------------------------
def test_rotating_forwarded_for_does_not_dodge_the_classify_limit(served, monkeypatch):
    from gradio_client import Client
    handlers = served[0].handlers
    monkeypatch.setattr(handlers, "classify_limit", security.RateLimit(2, 60))
    answers = [Client(served[0].local_url, verbose=False, headers={"X-Forwarded-For": f"203.0.113.{i}"})
               .predict("great", api_name="/classify")[1] for i in range(3)]
    assert answers[-1].startswith("Too many requests") and not answers[0].startswith("Too many")


def test_the_page_hands_each_visitor_a_signed_cookie(served, http):
    value = http.get("/").cookies.get(security.VISITOR_COOKIE)
    sessions = served[0].handlers.sessions
    assert value and sessions.verify(value)
    assert security.visitor_key("127.0.0.1", None, value, sessions) != security.visitor_key("127.0.0.1", None, None, sessions)


# --- the REST route ----------------------------------------------------------------------------
def test_rest_classify_answers_labels_and_probabilities(http, run_dir):
    answer = http.post("/api/v1/classify", json={"texts": ["I love it", "Awful, it broke"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == run_dir.name and body["labels"] == ["negative", "positive"]
    assert [sorted(p["scores"]) for p in body["predictions"]] == [["negative", "positive"]] * 2
    assert all(abs(sum(p["scores"].values()) - 1) < 1e-3 and p["label"] in body["labels"] for p in body["predictions"])
    schema = http.get("/api/v1/openapi.json").json()
    assert list(schema["paths"]) == ["/api/v1/classify"] and "post" in schema["paths"]["/api/v1/classify"]


def test_rest_refuses_what_is_too_large_or_malformed(http):
    too_many = http.post("/api/v1/classify", json={"texts": ["x"] * 65})
    assert too_many.status_code == 422 and "1 to 64 texts" in too_many.json()["detail"]
    huge = http.post("/api/v1/classify", content=b'{"texts": ["' + b"a" * 300_000 + b'"]}',
                     headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "larger than" in huge.json()["detail"]
    long_text = http.post("/api/v1/classify", json={"texts": ["a" * (feedback.MAX_TEXT_CHARS + 1)]})
    assert long_text.status_code == 413
    assert http.post("/api/v1/classify", json={"text": "no list"}).status_code == 422
    assert http.post("/api/v1/train", json={}).status_code in (404, 405)   # nothing else under /api/v1


def test_rest_is_rate_limited_whatever_address_the_caller_claims(run_dir):
    from fastapi.testclient import TestClient
    from studio.ui import rest
    run, classifier = demo.open_run(run_dir)
    api = rest.demo_api(run.id, classifier, security.VisitorSessions(), "t", limit=security.RateLimit(3, 60, total=5))
    with TestClient(api, client=("127.0.0.1", 5000)) as client:
        codes = [client.post("/api/v1/classify", json={"texts": ["good", "bad"]},
                             headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
        assert codes == [200, 429, 429]
    with TestClient(api, client=("198.51.100.1", 5000)) as other, TestClient(api, client=("198.51.100.2", 5000)) as third:
        assert other.post("/api/v1/classify", json={"texts": ["good", "bad", "meh"]}).status_code == 200
        assert third.post("/api/v1/classify", json={"texts": ["good"]}).status_code == 429   # the cap for all visitors


# --- the visitor's language --------------------------------------------------------------------
CJK = re.compile(r"[\u4e00-\u9fff]")
SHOWN = ("label", "value", "placeholder", "info", "choices", "samples")


def _translated(value) -> bool:
    """A translation key the browser fills in (gr.I18n), however the config spells it."""
    if isinstance(value, dict):
        return value.get("__type__") == "translation_metadata" and value.get("key") in i18n.STRINGS
    return isinstance(value, str) and value.startswith("__i18n__") and json.loads(value[8:])["key"] in i18n.STRINGS


def _strings(value):
    """Every string a prop shows (choices are [shown, value] pairs: only the shown one)."""
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and isinstance(value[0], (str, dict)) and not isinstance(value[1], (list, tuple)):
            yield value[0]
        else:
            for item in value:
                yield from _strings(item)
    elif value not in (None, "", {}) and not isinstance(value, (bool, int, float)):
        yield value


def test_every_word_on_the_demo_page_goes_through_the_translation_table(run_dir):
    run, classifier = demo.open_run(run_dir)
    blocks = demo.build(run, classifier, public_requested=True, examples=["Typed by the owner"])
    config = json.loads(json.dumps(blocks.get_config_file(), default=str))   # as the browser receives it
    # What the user wrote stays as written: the run's name, its labels, its model card, the owner's examples.
    own = {f"# {run.config().name}", demo.model_card(run).strip(), "Typed by the owner", *classifier.labels}
    bypassing = []
    for component in config["components"]:
        props = component["props"]
        if component["type"] in ("state", "form", "row", "column", "group", "blocks") or props.get("visible") is False:
            continue
        for prop in SHOWN:
            for shown in _strings(props.get(prop)):
                if not _translated(shown) and str(shown).strip() not in own:
                    bypassing.append((component["type"], prop, shown))
    assert not bypassing, f"strings on the demo page that bypass i18n.py: {bypassing}"
    # The page is translated with the demo's own keys, all of them in both languages.
    keys = set(re.findall(r'translation_metadata\\?", \\?"key\\?": \\?"(\w+)', json.dumps(config)))
    assert keys and all(k.startswith("demo_") for k in keys), keys
    assert set(i18n.DEMO_I18N.translations["en"]) == set(i18n.DEMO_I18N.translations["zh-CN"]) >= keys


def test_the_handlers_answer_in_the_visitors_language(run_dir, tmp_path):
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    run, classifier = demo.open_run(copy)
    handlers = demo.Handlers(run, classifier, classify_limit=security.RateLimit(1, 60),
                             feedback_limit=security.RateLimit(5, 60))
    scores, answer, last = handlers.classify("great quality", "zh", "zh-CN")
    assert scores and CJK.search(answer) and f"**{last['label']}**" in answer   # the label stays as named
    sentences = [answer, handlers.classify("great", "zh", "zh-CN")[1],          # the rate limit
                 handlers.classify("  ", "other", "zh-CN")[1],
                 handlers.feedback(None, demo.RIGHT, None, "zh", "zh-CN"),
                 handlers.feedback(last, "maybe", None, "zh", "zh-CN"),
                 handlers.feedback(last, demo.WRONG, "no such label", "zh", "zh-CN"),
                 handlers.feedback(last, demo.RIGHT, None, "zh", "zh-CN")]
    assert all(CJK.search(s) for s in sentences), sentences
    assert not re.search(r"[A-Za-z]{4,}", re.sub(r"\*\*\w+\*\*|'no such label'", "", " ".join(sentences))), sentences
    assert sentences[-1].startswith("谢谢") and feedback.read(copy)[-1]["verdict"] == "right"
    assert handlers.feedback(last, demo.RIGHT, None, "en", "en").startswith("Thank you")
