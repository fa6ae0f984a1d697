"""The studio starting where earlier studios left things behind: a read-only runs folder holding a run that a
killed studio left `running`."""
from __future__ import annotations

import subprocess

import pytest

from studio.config import DataConfig, RunConfig
from studio.runs import Run


@pytest.fixture
def read_only_runs(tmp_path):
    folder = tmp_path / "runs"
    stale = Run.create(folder, RunConfig(data=DataConfig(train_file="gone.csv")))
    stale.set_status("running", "Training: epoch 1 of 3.")
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a read-only folder here: {mounted.stderr.strip()}")
    subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
    yield folder, stale
    subprocess.run(["umount", "-l", str(folder)])


def test_the_studio_starts_on_a_read_only_runs_folder_with_a_stale_running_run(read_only_runs):
    from studio.ui import runs_tab, train_tab
    from studio.ui.app import build_app
    folder, stale = read_only_runs
    app = build_app(str(folder))
    studio = app.studio
    assert studio.manager.interrupted == [stale.id] and not studio.manager.active_runs()
    changes = train_tab.poll(studio, stale.id, None, "en")
    assert "Training" not in changes["status"]  # not shown as training forever
    assert stale.id in runs_tab.run_ids(studio)
