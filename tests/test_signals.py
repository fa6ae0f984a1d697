"""SIGTERM and Ctrl-C (SIGINT) on `studio train` and on the web studio: training stops at a step boundary, the run
is marked, the process exits 0, and nothing aborts on the way out. Real processes, real signals."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio import runs

ABORT = "terminate called"


def environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}


def as_from_a_terminal() -> None:
    """In the child before it starts: Ctrl-C as a terminal delivers it, even when this test process was started in
    the background, where SIGINT arrives ignored and a child would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def only_run(folder: Path) -> runs.Run:
    (run,) = runs.list_runs(folder)
    return run


def ended_at_a_step(run: runs.Run) -> None:
    """Stopped by the signal: `stopped` with the best model kept, or `cancelled` where the training core cannot
    keep it yet; never `running`, `interrupted` or `failed`."""
    status = run.status()
    assert status["state"] in ("stopped", "cancelled"), status
    assert (status["state"] == "stopped") == run.has_model()
    assert not runs.lock_held(run.path) and not (run.path / runs.STOP_FILE).exists()
    assert runs.temporaries(run.path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_train_stops_at_a_step_on_a_signal_and_exits_0(sig, sentiment_csv, tiny_model_dir, tmp_path):
    command = [sys.executable, "-m", "studio", "train", str(sentiment_csv), "--model", str(tiny_model_dir),
               "--method", "full", "--epochs", "200", "--batch-size", "8", "--max-length", "32", "--patience", "0",
               "--runs-dir", str(tmp_path / "runs"), "--json"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
                             preexec_fn=as_from_a_terminal)
    try:
        for line in child.stdout:
            if line.startswith("{") and json.loads(line).get("type") == "step":
                break
        child.send_signal(sig)
        out, err = child.communicate(timeout=180)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err
    assert ABORT not in err and "Traceback" not in err
    assert "Stopping after this step" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["type"] == "result" and result["state"] in ("stopped", "cancelled")
    ended_at_a_step(only_run(tmp_path / "runs"))


STUDIO = """
import sys
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from studio.ui import app as studio_app

if __name__ == "__main__":
    runs_dir, port, data, model = sys.argv[1:5]
    build = studio_app.build_app

    def build_and_start(*args, **kwargs):
        app = build(*args, **kwargs)
        config = RunConfig(data=DataConfig(train_file=data), model=ModelConfig(name=model, method="full"),
                           train=TrainConfig(epochs=200, batch_size=8, learning_rate=1e-3, patience=0, max_length=32))
        app.studio.manager.submit(config)
        return app
    studio_app.build_app = build_and_start
    sys.exit(studio_app.main(["--runs-dir", runs_dir, "--port", port]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_web_studio_stops_training_on_a_signal_and_exits_0(sig, sentiment_csv, tiny_model_dir, tmp_path):
    script = tmp_path / "studio_app.py"
    script.write_text(STUDIO)
    folder = tmp_path / "runs"
    child = subprocess.Popen([sys.executable, str(script), str(folder), str(free_port()), str(sentiment_csv),
                              str(tiny_model_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=environment(), preexec_fn=as_from_a_terminal)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and child.poll() is None:
            found = runs.list_runs(folder)
            if found and any(e["type"] == "step" for e in found[0].events()[0]):
                break
            time.sleep(0.2)
        assert child.poll() is None, child.communicate()
        child.send_signal(sig)
        out, err = child.communicate(timeout=180)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 0, err
    assert ABORT not in err and "Traceback" not in err, err
    ended_at_a_step(only_run(folder))
