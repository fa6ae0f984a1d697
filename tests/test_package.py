"""The studio as a built wheel, installed apart from this checkout: it finds its sample data and starts a demo.

Building and installing take seconds; the checks that start the web apps are marked slow.
The wheel is built without build isolation (setuptools comes with the test extra) and installed with --no-deps
into a target folder on top of this environment, so torch and the rest are not installed again. Every check
runs in a separate Python whose working directory is outside the checkout.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"   # a copy, so the build leaves no build/ or egg-info in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "studio", source / "studio", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (tmp / "dist").glob("studio-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("installed") / "site-packages"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def _outside(site: Path, code: str, cwd: Path, timeout: float = 300) -> dict:
    """Run `code` in a Python that sees the installed package first, from a folder outside the checkout;
    what it prints last is JSON."""
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_wheel_holds_the_package_its_data_and_honest_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "studio/assets/sample_support_tickets.csv" in names and "studio/ui/demo.py" in names
    assert all(n.startswith("studio/") or n.split("/")[0].endswith(".dist-info") for n in names)  # no launch.py, tests
    assert "studio = studio.__main__:main" in entry_points
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    torch = next(r for r in requires if r.startswith("torch"))
    assert "==" not in torch and ">=" in torch                 # a range; the exact build is the set-up's business
    assert any(r.startswith("psutil") for r in requires)        # imported by studio.training
    assert not any(r.startswith("accelerate") for r in requires)
    assert all('extra == "bench"' in r for r in requires if r.startswith("datasets"))


def test_the_installed_package_finds_its_sample_and_its_demo(site, tmp_path):
    found = _outside(site, """
        import importlib.util, json, os, subprocess, sys
        import studio
        from studio import data, sharing
        from studio.ui.context import SAMPLE_DATA
        table = data.read_table(studio.sample_data_path())
        command = sharing.demo_command("RUN", "127.0.0.1", 1, False)
        # what the demo process imports: the environment sharing.start gives it, asked directly
        child = subprocess.run([sys.executable, "-c", "import studio.ui.demo as d; print(d.__file__)"],
                               env=sharing.demo_environment(), capture_output=True, text=True, check=True)
        print(json.dumps({"package": studio.__file__, "sample": str(studio.sample_data_path()),
                          "ui_sample": str(SAMPLE_DATA), "rows": len(table.frame), "columns": list(table.frame.columns),
                          "command": command, "demo_module": child.stdout.strip(),
                          "demo_spec": importlib.util.find_spec("studio.ui.demo").origin}))
    """, cwd=tmp_path)
    assert Path(found["package"]).is_relative_to(site), found
    assert Path(found["sample"]).is_relative_to(site) and found["sample"] == found["ui_sample"]
    assert found["rows"] == 368 and found["columns"] == ["text", "category"]
    assert found["command"][1:4] == ["-m", "studio", "demo"] and not any("launch.py" in c for c in found["command"])
    assert Path(found["demo_module"]).is_relative_to(site) and Path(found["demo_spec"]).is_relative_to(site)


@pytest.mark.slow   # imports gradio from the installed package
def test_the_installed_entry_point_lists_serve_and_demo(site, tmp_path):
    script = site / "bin" / "studio"
    assert script.exists(), sorted(p.name for p in site.iterdir())
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0 and "serve" in done.stdout and "demo" in done.stdout, done.stderr
    done = subprocess.run([str(script), "serve", "--help"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300)
    assert done.returncode == 0 and "--port" in done.stdout and "--runs-dir" in done.stdout, done.stderr


@pytest.mark.slow   # a real demo process: gradio, the model, a server
def test_the_installed_package_starts_a_demo(site, tiny_run_dir, tmp_path):
    run_dir = tmp_path / "runs" / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, run_dir)
    status = _outside(site, f"""
        import json, urllib.request
        from studio import sharing
        status = sharing.start({str(run_dir)!r}, public=False)
        try:
            with urllib.request.urlopen(status["local_url"] + "config", timeout=10) as answer:
                status["config_status"] = answer.status
        finally:
            sharing.stop({str(run_dir)!r})
        print(json.dumps(status))
    """, cwd=tmp_path, timeout=400)
    assert status["state"] == "serving" and status["config_status"] == 200, status
    log = (run_dir / "share.log").read_text()
    assert "is running at" in log and "Traceback" not in log
