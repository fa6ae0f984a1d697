"""The studio on a network: password rules, upload limit and cache, rate limits, feedback, safetensors only."""
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from studio import feedback, models, security
from studio.inference import InferenceError, load_classifier


# --- the password ------------------------------------------------------------------------------
def test_auth_is_user_colon_password_from_flag_or_environment():
    assert security.parse_auth("ana:pass:with:colons") == ("ana", "pass:with:colons")
    assert security.resolve_auth(None, {"STUDIO_AUTH": "bo:secret"}) == ("bo", "secret")
    assert security.resolve_auth("ana:x", {"STUDIO_AUTH": "bo:secret"}) == ("ana", "x")
    assert security.resolve_auth(None, {}) is None
    for bad in ("ana", "ana:", ":pass"):
        with pytest.raises(security.SecurityError, match="USER:PASS"):
            security.parse_auth(bad)


def test_sharing_the_studio_needs_a_password():
    ok, sentence = security.check_launch(share=True, auth=None)
    assert not ok and "--auth" in sentence and "python -m studio demo RUN_DIR --share" in sentence
    ok, sentence = security.check_launch(share=True, auth=("ana", "x"))
    assert ok and "anyone who has the link and the password can upload data and train" in sentence
    ok, sentence = security.check_launch(share=False, auth=None, host="0.0.0.0")
    assert ok and "without a password" in sentence
    assert security.check_launch(share=False, auth=None, host="127.0.0.1") == (True, "")


# --- uploads -----------------------------------------------------------------------------------
def test_upload_limit_defaults_to_200_mb_and_can_be_changed():
    assert security.upload_limit_bytes(None, {}) == 200 * 1024 * 1024
    assert security.upload_limit_bytes(None, {"STUDIO_MAX_UPLOAD_MB": "50"}) == 50 * 1024 * 1024
    assert security.upload_limit_bytes(10, {"STUDIO_MAX_UPLOAD_MB": "50"}) == 10 * 1024 * 1024
    with pytest.raises(security.SecurityError, match="megabytes"):
        security.upload_limit_bytes(None, {"STUDIO_MAX_UPLOAD_MB": "lots"})
    assert "200 MB" in security.too_large_sentence(200 * 1024 * 1024)


def test_old_uploads_are_cleaned_from_the_cache(tmp_path):
    old_dir, old_file, new_file = tmp_path / "abc", tmp_path / "old.csv", tmp_path / "new.csv"
    old_dir.mkdir()
    (old_dir / "data.csv").write_text("x")
    old_file.write_text("x")
    new_file.write_text("x")
    two_days_ago = time.time() - 2 * 86400
    for path in (old_dir, old_file):
        os.utime(path, (two_days_ago, two_days_ago))
    assert security.clean_upload_cache(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["new.csv"]
    assert security.clean_upload_cache(tmp_path / "missing") == 0


# --- rate limits -------------------------------------------------------------------------------
def test_rate_limit_counts_per_client_within_the_window():
    now = [0.0]
    limit = security.RateLimit(2, 60, clock=lambda: now[0])
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a")
    assert limit.allow("b")
    now[0] = 61
    assert limit.allow("a")


def test_forwarded_address_is_believed_only_from_a_trusted_proxy():
    # From this computer (the share tunnel, any local program) the header is anyone's to write.
    assert security.client_address("127.0.0.1", "203.0.113.9, 10.0.0.1") == "127.0.0.1"
    assert security.client_address("198.51.100.7", "203.0.113.9") == "198.51.100.7"
    assert security.client_address(None) == "unknown"
    proxy = frozenset({"10.0.0.2"})
    assert security.client_address("10.0.0.2", "6.6.6.6, 203.0.113.9", proxy) == "203.0.113.9"  # what the proxy saw
    assert security.trusted_proxies({"STUDIO_TRUSTED_PROXIES": "10.0.0.2, 10.0.0.3"}) == {"10.0.0.2", "10.0.0.3"}
    assert security.trusted_proxies({}) == frozenset()


def test_rotating_forwarded_for_does_not_make_a_new_visitor():
    limit = security.RateLimit(2, 60)
    keys = [security.visitor_key("127.0.0.1", f"203.0.113.{i}") for i in range(5)]
    assert [limit.allow(k) for k in keys] == [True, True, False, False, False]


def test_visitors_on_this_computer_are_told_apart_by_their_signed_cookie():
    sessions = security.VisitorSessions(new_per_minute=2)
    first, second = sessions.issue(), sessions.issue()
    assert sessions.issue() is None   # new visitor tokens are limited too
    a = security.visitor_key("127.0.0.1", None, first, sessions)
    b = security.visitor_key("127.0.0.1", None, second, sessions)
    assert a.startswith("session:") and b.startswith("session:") and a != b
    forged = first.split(".")[0] + ".0123456789abcdef0123456789abcdef"
    assert security.visitor_key("127.0.0.1", None, forged, sessions) == "loopback"   # unsigned: the shared bucket
    assert security.visitor_key("127.0.0.1", None, None, sessions) == "loopback"
    assert security.visitor_key("198.51.100.7", None, first, sessions) == "198.51.100.7"   # elsewhere: the address


def test_global_cap_holds_whatever_keys_a_client_invents():
    now = [0.0]
    limit = security.RateLimit(5, 60, clock=lambda: now[0], total=3)
    assert [limit.allow(f"visitor-{i}") for i in range(5)] == [True, True, True, False, False]
    assert not limit.allow("another", cost=1)
    now[0] = 61
    assert limit.allow("visitor-9", cost=3) and not limit.allow("visitor-8")


# --- feedback ----------------------------------------------------------------------------------
def test_feedback_is_appended_as_json_lines(tmp_path):
    before = time.time()
    feedback.append(tmp_path, "great stuff", "positive", "right", labels=["negative", "positive"])
    feedback.append(tmp_path, "meh", "positive", "wrong", "negative", labels=["negative", "positive"])
    lines = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert [(r["text"], r["predicted"], r["verdict"], r["correct_label"]) for r in lines] == [
        ("great stuff", "positive", "right", "positive"), ("meh", "positive", "wrong", "negative")]
    assert all(before - 0.001 <= r["time"] <= time.time() + 0.001 for r in lines)   # when, in seconds (to the ms)
    with pytest.raises(feedback.FeedbackError, match="labels"):
        feedback.append(tmp_path, "meh", "positive", "wrong", "<script>", labels=["negative", "positive"])
    with pytest.raises(feedback.FeedbackError, match="right or wrong"):
        feedback.append(tmp_path, "meh", "positive", "maybe")
    assert len(feedback.read(tmp_path)) == 2


# --- models: safetensors only ------------------------------------------------------------------
def test_a_hub_model_with_only_pickle_weights_is_refused(monkeypatch):
    from transformers import AutoModelForSequenceClassification

    def hub_answer(*args, **kwargs):
        assert kwargs.get("use_safetensors") is True and kwargs.get("trust_remote_code") is False
        raise OSError("some-org/old-model does not appear to have a file named model.safetensors or "
                      "model.safetensors.index.json and thus cannot be loaded with `safetensors`.")
    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", hub_answer)
    with pytest.raises(models.ModelError, match="offers no safetensors weights"):
        models.load_model("some-org/old-model", ["a", "b"])


def test_a_run_model_with_only_pickle_weights_is_not_loaded(tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle could run code here")
    with pytest.raises(InferenceError, match="pickle weights"):
        load_classifier(tmp_path)


def test_security_sharing_and_feedback_never_import_gradio():
    code = ("import sys; import studio.security, studio.sharing, studio.feedback; "
            "print('gradio' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# --- the studio's launch -----------------------------------------------------------------------
def test_studio_share_without_password_refuses_to_start(monkeypatch):
    from studio.ui import serve
    monkeypatch.delenv("STUDIO_AUTH", raising=False)
    said = []
    assert serve.studio_launch(True, None, "127.0.0.1", None, say=said.append) is None
    assert "Refusing to share the studio without a password" in said[0]
    assert serve.studio_launch(False, "nocolon", "127.0.0.1", None, say=said.append) is None
    assert "USER:PASS" in said[-1]


def test_studio_with_password_is_closed_to_strangers_and_limits_uploads(monkeypatch, tmp_path):
    import gradio as gr
    from studio.sharing import free_port
    from studio.ui import serve
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache"))   # the cache cleaning stays in this test
    monkeypatch.delenv("STUDIO_AUTH", raising=False)
    said = []
    settings = serve.studio_launch(True, "ana:open-sesame", "127.0.0.1", 0.01, say=said.append)
    assert settings["auth"] == ("ana", "open-sesame") and "can upload data and train" in said[0]
    with gr.Blocks() as blocks:
        gr.File(label="data")
    with monkeypatch.context() as m:   # no public link in a test: the tunnel fails as it does offline
        m.setattr("gradio.networking.setup_tunnel", _offline_tunnel)
        local_url, public_url, note = serve.launch(blocks, share=True, block=False, say=said.append,
                                                   server_port=free_port(), **settings)
    try:
        assert public_url is None and note.startswith("Could not create a public link") and said[-1] == note
        with httpx.Client(base_url=local_url, timeout=20) as client:
            assert client.get("/config").status_code == 401
            assert client.post("/login", data={"username": "ana", "password": "open-sesame"}).status_code == 200
            assert client.get("/config").status_code == 200
            for size in (12 * 1024, 200 * 1024):   # just over the limit (gradio's check) and far over (the guard's)
                answer = client.post("/gradio_api/upload", files={"files": ("big.csv", b"x" * size)})
                assert answer.status_code == 413 and answer.text == security.too_large_sentence(int(0.01 * 1024 * 1024))
            assert client.post("/gradio_api/upload", files={"files": ("small.csv", b"a,b\n1,2\n")}).status_code == 200
        with httpx.Client(base_url=local_url, timeout=20) as stranger:
            # Each guess claims another address: the header is not believed, the guesses still count.
            codes = [stranger.post("/login", data={"username": "ana", "password": f"guess{i}"},
                                   headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                     for i in range(serve.LOGIN_ATTEMPTS_PER_MINUTE + 3)]
            assert codes[-3:] == [429] * 3 and 200 not in codes, codes
            assert "wait a minute" in stranger.post("/login", data={"username": "a", "password": "b"}).text
    finally:
        blocks.close(verbose=False)


def _offline_tunnel(*args, **kwargs):
    raise RuntimeError("Could not get share link from Gradio API Server.")
