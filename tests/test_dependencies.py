"""pyproject.toml declares what `studio` imports, and imports what it declares."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Declared without an import of their own: what a library we call loads by name at run time.
RUNTIME_ONLY = {
    "openpyxl": "pandas reads .xlsx through it (engine='openpyxl')",
    "safetensors": "transformers saves and loads the model folders' weights through it",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = {_name(r) for group in project.get("optional-dependencies", {}).values() for r in group}
    return {_name(r) for r in project["dependencies"]}, extras


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution name -> the studio files importing it (third-party modules only)."""
    owners = {module: {d.lower().replace("_", "-") for d in dists} for module, dists in packages_distributions().items()}
    found: dict[str, set[str]] = {}
    for path in (ROOT / "studio").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "studio":
                    continue
                for dist in owners.get(top, {top.lower().replace("_", "-")}):
                    found.setdefault(dist, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    required, extras = _declared()
    missing = {dist: sorted(files) for dist, files in _imported_distributions().items()
               if dist not in required | extras}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_declared_package_is_imported_or_named_as_needed_at_run_time():
    required, _ = _declared()
    unused = required - set(_imported_distributions()) - set(RUNTIME_ONLY)
    assert not unused, f"declared in pyproject.toml but never imported by studio: {sorted(unused)}"


def test_torch_is_a_range_and_its_exact_build_is_the_set_up_scripts():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (torch,) = [r for r in project["dependencies"] if _name(r) == "torch"]
    assert "==" not in torch and ">=" in torch
    assert re.search(r"torch==\d", (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8"))
