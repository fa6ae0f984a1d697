"""Checkpoints of a run in progress, so a run that was killed can go on where it was.

    RUN_DIR/checkpoints/last/   the state at the latest evaluation: manifest.json (positions, counters,
                                scores; written last), state.pt (optimizer, schedule, random-number
                                generators, the epoch plan, the fitted head), weights.safetensors
                                (the trainable weights)
    RUN_DIR/checkpoints/best/   weights.safetensors of the best evaluation so far, with its manifest.json

A folder is written under a temporary name, every file fsynced, and renamed into place; a folder whose
manifest is missing, says it is incomplete or lists other file sizes is never loaded. `last` is written
before `best`: when the newest evaluation is the best one, `last` holds its weights itself, so a crash
between the two writes loses nothing.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FOLDER = "checkpoints"
MANIFEST = "manifest.json"
STATE = "state.pt"
WEIGHTS = "weights.safetensors"
FORMAT = 1


@dataclass
class Checkpoint:
    manifest: dict                      # what training wrote: step, scores, counters, the settings it is valid for
    state: dict                         # optimizer, schedule, random-number generators, epoch plan, fitted head
    weights: dict[str, torch.Tensor]    # trainable weights at the checkpoint, by parameter name
    best: dict[str, torch.Tensor] | None  # the best evaluation's weights (None when nothing was evaluated)


def folder(run_dir: str | Path) -> Path:
    return Path(run_dir) / FOLDER


def save(run_dir: str | Path, manifest: dict, state: dict, weights: dict[str, torch.Tensor],
         best: dict[str, torch.Tensor] | None) -> None:
    """Write `last`, then `best` when the best weights on disk are not those of manifest["best_step"], each
    atomically (so a `best` lost to a crash is written again at the next checkpoint)."""
    root = folder(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    plain = _on_cpu(weights)
    _write_folder(root / "last", manifest, {STATE: lambda p: torch.save(state, p), WEIGHTS: lambda p: _save_weights(plain, p)})
    best_step = manifest.get("best_step")
    if best is not None and best_step is not None and _complete(root, "best", step=best_step) is None:
        best_plain = _on_cpu(best)
        _write_folder(root / "best", {"step": best_step}, {WEIGHTS: lambda p: _save_weights(best_plain, p)})


def _on_cpu(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: w.detach().to("cpu").contiguous() for name, w in weights.items()}


def load(run_dir: str | Path) -> Checkpoint | None:
    """The latest complete checkpoint, or None when there is none to go on from."""
    root = folder(run_dir)
    last = _complete(root, "last")
    if last is None:
        return None
    path, manifest = last
    try:
        state = torch.load(path / STATE, map_location="cpu", weights_only=True)
        weights = _load_weights(path / WEIGHTS)
    except Exception:  # unreadable despite a complete manifest (a disk error): start again rather than crash
        return None
    best_step = manifest.get("best_step")
    best = None
    if best_step is not None and best_step == manifest.get("step"):
        best = weights
    elif best_step is not None:
        found = _complete(root, "best", step=best_step)
        if found is None:
            return None
        best = _load_weights(found[0] / WEIGHTS)
    return Checkpoint(manifest, state, weights, best)


def read_manifest(run_dir: str | Path) -> dict | None:
    """The manifest of the latest complete checkpoint, without loading any weights."""
    found = _complete(folder(run_dir), "last")
    return found[1] if found else None


def can_resume(run_dir: str | Path) -> bool:
    """Whether the run folder holds a complete checkpoint to go on from."""
    return read_manifest(run_dir) is not None


def remove(run_dir: str | Path) -> None:
    shutil.rmtree(folder(run_dir), ignore_errors=True)


# --- random-number generators ----------------------------------------------------------------
def rng_state() -> dict:
    """Python's, NumPy's, torch's and (when in use) CUDA's generators, in types torch.load(weights_only) reads."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return {"python": [version, list(internal), gauss], "numpy": [name, keys.tolist(), pos, has_gauss, cached],
            "torch": torch.get_rng_state(), "cuda": cuda}


def restore_rng(saved: dict) -> None:
    version, internal, gauss = saved["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(saved["torch"])
    if saved.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])


# --- files -----------------------------------------------------------------------------------
def _save_weights(weights: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file
    save_file(weights, str(path))


def _load_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file
    return load_file(str(path))


def _write_folder(target: Path, manifest: dict, files: dict) -> None:
    """Write the files and then the manifest into a temporary folder, fsync them, and rename it to `target`."""
    tmp, old = target.with_name(f".{target.name}.tmp"), target.with_name(f".{target.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, write in files.items():
        write(tmp / name)
    complete = {**manifest, "format": FORMAT, "files": {name: (tmp / name).stat().st_size for name in files},
                "complete": True}
    (tmp / MANIFEST).write_text(json.dumps(complete, indent=1), encoding="utf-8")
    for name in (*files, MANIFEST):
        _fsync(tmp / name)
    _fsync_dir(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)  # a crash right here leaves only `.old`, which _complete still finds
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def _complete(root: Path, name: str, step: int | None = None) -> tuple[Path, dict] | None:
    """(folder, manifest) of the complete one of `name` and its previous copy, preferring the newer."""
    for path in (root / name, root / f".{name}.old"):
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = manifest.get("files") or {}
        if not manifest.get("complete") or manifest.get("format") != FORMAT or not files:
            continue
        if any(not (path / f).is_file() or (path / f).stat().st_size != size for f, size in files.items()):
            continue
        if step is not None and manifest.get("step") != step:
            continue
        return path, manifest
    return None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
