"""Sharing a run: the demo as a real separate process, recorded in RUN_DIR/share.json."""
import shutil
import subprocess
import sys
import urllib.request

import pytest

from studio import sharing
from studio.runs import Run


@pytest.fixture
def run_dir(tiny_run_dir, tmp_path):
    target = tmp_path / "runs" / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, target)
    return target


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_run_never_shared_is_off(run_dir):
    status = sharing.status(run_dir)
    assert status["state"] == "off" and status["message"] == "Not shared."


def test_status_notices_a_demo_that_died(run_dir):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    sharing.update(run_dir, state="serving", pid=gone.pid, local_url="http://127.0.0.1:9/")
    status = sharing.status(run_dir)
    assert status["state"] == "stopped" and status["local_url"] is None and "no longer running" in status["message"]


def test_a_run_without_a_model_cannot_be_shared(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(sharing.SharingError, match="no trained model"):
        sharing.start(tmp_path)


def test_start_status_stop_with_a_real_demo_process(run_dir):
    # --share for real: offline the tunnel fails at once and the demo says so; online it makes a link.
    status = sharing.start(run_dir, public=True)
    try:
        assert status["state"] == "serving", status
        assert _answers(status["local_url"])
        assert status["public_url"] or status["public_note"].startswith("Could not create a public link")
        child = sharing._children[status["pid"]]
        # A page refresh or a restarted studio reads the same state from the run folder.
        sharing._children.clear()
        again = sharing.status(run_dir)
        assert again["state"] == "serving" and again["local_url"] == status["local_url"]
        assert sharing.start(run_dir)["pid"] == status["pid"]   # already running: not started twice
        sharing._children[child.pid] = child
    finally:
        stopped = sharing.stop(run_dir)
    assert stopped["state"] == "stopped" and stopped["local_url"] is None
    assert child.returncode == 0   # "Stop sharing" ends the demo cleanly
    assert not _answers(status["local_url"])
    log = (Run(run_dir).path / sharing.LOG_FILE).read_text()
    assert "Traceback" not in log and "is running at" in log
