import subprocess
import sys

CORE = ["studio", "studio.config", "studio.data", "studio.models", "studio.training", "studio.jobs", "studio.runs",
        "studio.metrics", "studio.inference", "studio.presets", "studio.__main__"]


def test_core_never_imports_gradio():
    code = f"import sys, importlib; [importlib.import_module(m) for m in {CORE!r}]; print('gradio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
