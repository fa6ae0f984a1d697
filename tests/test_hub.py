"""Pushing to the Hub: with no token, offline or with the Hub unreachable it says so in one sentence and changes
nothing (the upload itself needs the network and is not tested here)."""
import os

import pytest

from studio import hub
from studio.__main__ import main


def _snapshot(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture
def online_without_token(monkeypatch, tmp_path):
    import huggingface_hub.constants as constants
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))


def test_no_token_says_so_and_changes_nothing(tiny_run_dir, online_without_token, capsys):
    before = _snapshot(tiny_run_dir)
    assert main(["push", str(tiny_run_dir), "--repo", "someone/reviews"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("There is no Hugging Face token") and err.endswith("Nothing was uploaded.")
    assert len(err.splitlines()) == 1 and _snapshot(tiny_run_dir) == before


def test_offline_says_so(tiny_run_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubError, match="runs offline here"):
        hub.push(tiny_run_dir, "someone/reviews", token="hf_x")


def test_an_unreachable_hub_says_so_before_creating_anything(tiny_run_dir, online_without_token, monkeypatch):
    import huggingface_hub.constants as constants
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")   # nothing listens there
    before = _snapshot(tiny_run_dir)
    with pytest.raises(hub.HubError, match="cannot be reached .*Nothing was uploaded"):
        hub.push(tiny_run_dir, "someone/reviews", token="hf_x")
    assert _snapshot(tiny_run_dir) == before


def test_a_bad_name_or_a_run_without_model_is_refused(tiny_run_dir, tmp_path):
    with pytest.raises(hub.HubError, match="not a Hub repository name"):
        hub.check(tiny_run_dir, "no spaces/allowed here")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(hub.HubError, match="has no trained model"):
        hub.check(tmp_path, "someone/reviews")
