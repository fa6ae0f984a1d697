"""Share one run as a demo: a separate process that can only classify text and take feedback.

    python -m studio demo RUN_DIR [--share] [--port P] [--host H]

RUN_DIR/share.json records that process: its pid and port, the local link, and the public link or the sentence
saying why there is none. The studio reads it, so the sharing state survives a page refresh and a studio
restart. The demo writes it too (studio.ui.demo), so a demo started from a terminal shows up in the studio.
RUN_DIR/share.log holds the demo's terminal output.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .runs import Run, _pid_alive, atomic_write_json, read_json

SHARE_FILE = "share.json"
LOG_FILE = "share.log"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]   # the folder that holds this studio/ package
START_TIMEOUT_S = 180     # importing gradio and loading the model takes a while on a busy machine
PUBLIC_TIMEOUT_S = 45     # gradio's request for a tunnel gives up after 30 s
RUNNING = ("starting", "serving")

_children: dict[int, subprocess.Popen] = {}   # demos this process started, so their exit is noticed and reaped


class SharingError(RuntimeError):
    """The demo cannot be started or stopped; the message says why."""


def no_public_link_sentence(local_url: str, what: str = "demo") -> str:
    return (f"Could not create a public link (no internet connection or the share tunnel is blocked); "
            f"the {what} is available only at {local_url}")


# --- the record --------------------------------------------------------------------------------
def read(run_dir: str | Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / SHARE_FILE) or {}


def update(run_dir: str | Path, **fields: Any) -> dict[str, Any]:
    record = {**read(run_dir), **fields, "updated": round(time.time(), 3)}
    atomic_write_json(Path(run_dir) / SHARE_FILE, record)
    return record


def status(run_dir: str | Path) -> dict[str, Any]:
    """The record, with `state` off / starting / serving / stopped / failed checked against the process, and a
    `message` for the page."""
    record = read(run_dir)
    record.setdefault("state", "off")
    if record["state"] in RUNNING and not is_demo_process(record.get("pid"), run_dir):
        record.update(state="stopped", local_url=None, public_url=None,
                      message="The demo is no longer running (it was closed or the computer restarted).")
    if record["state"] not in ("stopped", "failed") or not record.get("message"):
        record["message"] = describe(record)
    return record


def describe(record: dict[str, Any]) -> str:
    state = record.get("state", "off")
    if state == "starting":
        return "Starting the demo..."
    if state == "serving":
        if record.get("public_url"):
            return f"The demo is running; anyone with the public link can classify text: {record['public_url']}"
        if record.get("public_note"):
            return record["public_note"]
        if record.get("public_requested"):
            return f"The demo is running at {record.get('local_url')}; the public link is still being created."
        return f"The demo is running at {record.get('local_url')} (this computer only)."
    if state == "failed":
        return record.get("message") or "The demo could not start."
    return "Not shared."


# --- the process -------------------------------------------------------------------------------
def is_demo_process(pid: int | None, run_dir: str | Path) -> bool:
    """Is `pid` alive and the demo of this run (not a stranger that inherited the number after a restart)?"""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS, Windows): trust the pid
        return _pid_alive(pid)
    name = Path(run_dir).resolve().name.encode()
    return b"demo" in args and any(arg.rstrip(b"/").endswith(name) for arg in args)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _last_lines(path: Path, n: int = 3) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return ""
    return " ".join(lines[-n:])


def start(run_dir: str | Path, public: bool = True, host: str = "127.0.0.1", port: int | None = None,
          timeout_s: float = START_TIMEOUT_S, public_timeout_s: float = PUBLIC_TIMEOUT_S,
          examples: list[str] | None = None) -> dict[str, Any]:
    """Start the demo of a finished run and wait until its local link answers (and the public link is made or
    refused); return its status. A demo already running is left as it is. `examples`: texts the owner wrote for
    visitors to click (the demo shows none of the run's data)."""
    run = Run(Path(run_dir).resolve())
    if not run.has_model():
        raise SharingError("This run has no trained model yet; share a run that finished training.")
    current = status(run.path)
    if current["state"] in RUNNING:
        return current
    port = port or free_port(host)
    with open(run.path / LOG_FILE, "w", encoding="utf-8") as log:
        child = subprocess.Popen(demo_command(run.path, host, port, public, examples), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=demo_environment(), start_new_session=True)
    _children[child.pid] = child
    update(run.path, state="starting", pid=child.pid, own_session=True, host=host, port=port, local_url=None,
           public_requested=public, public_url=None, public_note=None, message=None, started=round(time.time(), 3))
    _wait_until_serving(run.path, child, timeout_s)
    if public:
        deadline = time.monotonic() + public_timeout_s
        while time.monotonic() < deadline and child.poll() is None:
            record = read(run.path)
            if record.get("public_url") or record.get("public_note"):
                break
            time.sleep(0.2)
    return status(run.path)


def demo_command(run_dir: str | Path, host: str, port: int, public: bool, examples: list[str] | None = None) -> list[str]:
    """The demo as a module of this package (python -m studio demo ...): no file outside the package is needed."""
    command = [sys.executable, "-m", "studio", "demo", str(run_dir), "--host", host, "--port", str(port)]
    command += [f"--example={text}" for text in examples or [] if text.strip()]
    return command + ["--share"] if public else command


def demo_environment() -> dict[str, str]:
    """The environment of the demo process: it imports this very studio package, an installed one as it is, a
    checkout run without installing through PYTHONPATH."""
    env = dict(os.environ)
    installed = {Path(p).resolve() for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages")}
    if PACKAGE_ROOT not in installed:
        env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _wait_until_serving(run_dir: Path, child: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            reason = _last_lines(run_dir / LOG_FILE) or f"it exited with code {child.returncode}"
            update(run_dir, state="failed", message=f"The demo could not start: {reason}")
            raise SharingError(f"The demo could not start: {reason}")
        record = read(run_dir)
        if record.get("state") == "serving" and record.get("local_url") and _answers(record["local_url"]):
            return
        time.sleep(0.3)
    _terminate(child.pid, own_session=True)
    message = f"The demo did not start within {timeout_s:.0f} seconds; see {run_dir / LOG_FILE}."
    update(run_dir, state="failed", message=message)
    raise SharingError(message)


def stop(run_dir: str | Path, timeout_s: float = 10) -> dict[str, Any]:
    """End the demo of this run (if it runs) and return the new status."""
    run_dir = Path(run_dir).resolve()
    record = read(run_dir)
    if record.get("state") in RUNNING and is_demo_process(record.get("pid"), run_dir):
        _terminate(record["pid"], bool(record.get("own_session")), timeout_s)
    if record:
        update(run_dir, state="stopped", local_url=None, public_url=None, public_note=None, message="Sharing stopped.")
    return status(run_dir)


def _terminate(pid: int, own_session: bool, timeout_s: float = 10) -> None:
    """SIGTERM (to the demo's whole session, which holds the tunnel process), then SIGKILL if it lingers."""
    def send(sig: int) -> None:
        try:
            if own_session and hasattr(os, "killpg"):
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    child = _children.get(pid)
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            break
        if child is None and not _pid_alive(pid):
            break
        time.sleep(0.1)
    else:
        send(getattr(signal, "SIGKILL", signal.SIGTERM))
        if child is not None:
            child.wait(timeout=5)
