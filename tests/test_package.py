"""The studio as a built wheel, installed into a fresh virtualenv apart from this checkout: its entry point serves
the studio, it finds its sample data and starts a demo.

Building and installing take seconds; the checks that start the web apps are marked slow.
The wheel is built without build isolation (setuptools comes with the test extra). The virtualenv gets the
wheel alone (--no-deps); a .pth file lets it see the packages of the environment running the tests (torch and
the rest, which are big and already here) after its own, and `pip check` then says whether those satisfy the
wheel's declared requirements. Every check runs the virtualenv's own Python or entry point, without
PYTHONPATH, from a working directory outside the checkout.
"""
from __future__ import annotations

import json
import os
import shutil
import site as site_module
import subprocess
import sys
import textwrap
import time
import urllib.request
import venv
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
def env(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel; the test environment's packages are visible after its own."""
    root = tmp_path_factory.mktemp("venv") / "env"
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    own = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip())
    theirs = [p for p in site_module.getsitepackages() if Path(p).is_dir()]
    (own / "zz_test_environment.pth").write_text("\n".join(theirs) + "\n")   # plain paths: their .pth files stay off
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-compile", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def _environment() -> dict:
    keep = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**keep, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}


def _outside(env: Path, code: str, cwd: Path, timeout: float = 300) -> dict:
    """Run `code` in the virtualenv's Python from a folder outside the checkout; what it prints last is JSON."""
    done = subprocess.run([str(env / "bin" / "python"), "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=cwd, env=_environment(), timeout=timeout)
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


def test_the_installed_package_finds_its_sample_and_its_demo(env, tmp_path):
    found = _outside(env, """
        import importlib.util, json, os, subprocess, sys
        import studio
        from studio import data, sharing
        from studio.ui.context import SAMPLE_DATA
        table = data.read_table(studio.sample_data_path())
        command = sharing.demo_command("RUN", "127.0.0.1", 1, False)
        # what the demo process imports: the environment sharing.start gives it, asked directly
        child = subprocess.run([sys.executable, "-c", "import studio.ui.demo as d; print(d.__file__)"],
                               env=sharing.demo_environment(), capture_output=True, text=True, check=True)
        print(json.dumps({"prefix": sys.prefix, "package": studio.__file__, "sample": str(studio.sample_data_path()),
                          "ui_sample": str(SAMPLE_DATA), "rows": len(table.frame), "columns": list(table.frame.columns),
                          "command": command, "demo_module": child.stdout.strip(),
                          "demo_spec": importlib.util.find_spec("studio.ui.demo").origin}))
    """, cwd=tmp_path)
    site = Path(found["package"]).parents[1]
    assert site.is_relative_to(env) and Path(found["prefix"]) == env, found
    assert Path(found["sample"]).is_relative_to(site) and found["sample"] == found["ui_sample"]
    assert found["rows"] == 368 and found["columns"] == ["text", "category"]
    assert found["command"][1:4] == ["-m", "studio", "demo"] and not any("launch.py" in c for c in found["command"])
    assert Path(found["demo_module"]).is_relative_to(site) and Path(found["demo_spec"]).is_relative_to(site)


def test_the_environment_satisfies_the_wheels_declared_requirements(env):
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "check"],
                          capture_output=True, text=True, env=_environment(), timeout=300)
    studio_lines = [line for line in done.stdout.splitlines() if line.lower().startswith("studio ")]
    assert not studio_lines, studio_lines   # every Requires-Dist of the wheel is installed, in a version it allows


@pytest.mark.slow   # starts the web studio from the installed entry point
def test_the_installed_entry_point_serves_the_studio(env, tmp_path):
    from studio.sharing import free_port
    script = env / "bin" / "studio"
    assert script.exists(), sorted(p.name for p in (env / "bin").iterdir())
    assert script.read_text().startswith(f"#!{env / 'bin' / 'python'}")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, env=_environment(),
                          timeout=120)
    assert done.returncode == 0 and "serve" in done.stdout and "demo" in done.stdout, done.stderr
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([str(script), "serve", "--port", str(port), "--runs-dir", str(tmp_path / "runs")],
                                  cwd=tmp_path, env=_environment(), stdout=out, stderr=subprocess.STDOUT)
    try:
        config = None
        deadline = time.monotonic() + 300   # a wait for the server to come up, not a speed check
        while config is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as answer:
                    config = json.loads(answer.read())
            except OSError:
                time.sleep(1)
        assert config is not None, log.read_text()[-3000:]
        assert "components" in config   # the studio's page description, served by the installed package
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "Traceback" not in log.read_text()


@pytest.mark.slow   # a real demo process: gradio, the model, a server
def test_the_installed_package_starts_a_demo(env, tiny_run_dir, tmp_path):
    run_dir = tmp_path / "runs" / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, run_dir)
    status = _outside(env, f"""
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
