"""The core never imports gradio: every module of `studio` outside `studio.ui`, found by walking the package,
so a module added later is checked without anyone listing it here."""
import subprocess
import sys

WALK = """
import importlib, json, pkgutil, sys
names, pulled_in = [], {}

def walk(package):
    # pkgutil.walk_packages would import studio.ui to look inside it; this walk never enters it
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if info.name == "studio.ui":
            continue
        module = importlib.import_module(info.name)
        names.append(info.name)
        if "gradio" in sys.modules and not pulled_in:
            pulled_in["first"] = info.name
        if info.ispkg:
            walk(module)

walk(importlib.import_module("studio"))
print(json.dumps({"modules": sorted(names), "gradio": "gradio" in sys.modules, **pulled_in}))
"""


def test_no_core_module_imports_gradio():
    import json
    done = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert not found["gradio"], f"{found.get('first')} imports gradio"
    # The walk reached the core: the modules every run goes through, and the command line.
    assert {"studio.config", "studio.training", "studio.inference", "studio.tables", "studio.__main__"} <= \
        set(found["modules"]), found["modules"]
