"""The assembled app: its stable element ids, and what `python launch.py` says before it serves."""
from __future__ import annotations

import socket

from studio.ui import app as studio_app

STABLE_IDS = {"data-upload", "data-sample", "data-report", "text-column", "label-column", "model-choice", "method",
              "freeze-depth", "trainable-params", "train-start", "train-stop", "train-status", "train-progress",
              "loss-plot", "metric-plot", "eval-metrics", "eval-confusion", "playground-run", "playground-text",
              "playground-classify", "playground-output", "runs-table", "language"}


def test_every_stable_element_id_is_in_the_page(tmp_path, tiny_model_dir):
    app = studio_app.build_app(str(tmp_path / "runs"), default_model=str(tiny_model_dir))
    ids = {c.get("props", {}).get("elem_id") for c in app.config["components"]}
    assert STABLE_IDS <= ids, STABLE_IDS - ids
    assert app.studio.default_model == str(tiny_model_dir)
    assert app.studio.runs_dir == (tmp_path / "runs").resolve()


def test_the_default_model_can_come_from_the_environment(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_DEFAULT_MODEL", str(tiny_model_dir))
    from studio.ui.context import Studio
    assert Studio.create(tmp_path).default_model == str(tiny_model_dir)


def test_share_without_a_password_is_refused(capsys):
    assert studio_app.main(["--share"]) == 2
    assert "--auth" in capsys.readouterr().err


def test_studio_serve_and_launch_py_are_the_same_command(capsys):
    import importlib.util
    from pathlib import Path
    from studio.__main__ import main
    spec = importlib.util.spec_from_file_location("launch", Path(__file__).resolve().parents[2] / "launch.py")
    launch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch)
    assert main(["serve", "--share"]) == 2
    refusal = capsys.readouterr().err
    assert "--auth" in refusal
    assert launch.main(["--share"]) == 2 and capsys.readouterr().err == refusal
    assert launch.main(["demo", "/no/such/run"]) == 2 and "config.json" in capsys.readouterr().err


def test_a_malformed_auth_is_explained(capsys):
    assert studio_app.main(["--auth", "nocolon"]) == 2
    assert "colon" in capsys.readouterr().err


def test_a_busy_port_is_explained(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert studio_app.main(["--port", str(port), "--runs-dir", str(tmp_path)]) == 1
    assert "--port" in capsys.readouterr().err
