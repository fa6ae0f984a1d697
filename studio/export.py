"""A run's model as ONNX for fast CPU inference, optionally with int8 weights.

    python -m studio export RUN_DIR --onnx [--int8]

The files go inside the model folder, where the Hugging Face convention puts them (`onnx/model.onnx`,
`onnx/model_quantized.onnx`), so the zip of the model and a push to the Hub carry them, and
`inference.load_classifier` serves from them (studio.inference: backend "onnx" / "onnx-int8"). torch.onnx's
exporter (torch.export underneath, with onnxscript) writes the graph with the batch and the sequence length
left free; onnxruntime's `quantize_dynamic` stores the weights of the matrix products as int8 and quantizes
activations on the fly, which needs no calibration data.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import time
import warnings
from pathlib import Path

ONNX_DIR = "onnx"
ONNX_FILE = "model.onnx"
INT8_FILE = "model_quantized.onnx"
OPSET = 18
CHECK_TEXTS = ["A short text.", "A somewhat longer text to check that the exported graph accepts another length.",
               "x"]


class ExportError(ValueError):
    """The model cannot be exported; the message says why and what to do."""


def model_dir_of(path: str | Path) -> Path:
    """The model folder of a run folder (runs/<id>/model), or the folder itself when it holds the model."""
    path = Path(path)
    folder = path / "model" if (path / "model" / "config.json").exists() else path
    if not (folder / "config.json").exists():
        raise ExportError(f"{path} holds no trained model; give a finished run's folder, e.g. runs/<id>.")
    return folder


def onnx_path(model_dir: str | Path, int8: bool = False) -> Path:
    return Path(model_dir) / ONNX_DIR / (INT8_FILE if int8 else ONNX_FILE)


def has_onnx(model_dir: str | Path, int8: bool = False) -> bool:
    return onnx_path(model_dir, int8).is_file()


def _require_libraries() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as err:
        raise ExportError(f"ONNX export needs the onnx extra ({err.name} is missing): "
                          "pip install 'studio[onnx]'.") from None


@contextlib.contextmanager
def _quiet():
    """The exporter's and the quantizer's chatter (progress lines, warnings about optional packages) stays out of
    the user's terminal; errors still come through."""
    root, exporter = logging.getLogger(), logging.getLogger("torch.onnx")
    levels = root.level, exporter.level
    root.setLevel(logging.ERROR)
    exporter.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(levels[0])
        exporter.setLevel(levels[1])


def export_onnx(path: str | Path, int8: bool = False) -> dict:
    """Write model/onnx/model.onnx (and model_quantized.onnx with `int8`); check it against PyTorch on a few texts.
    Returns the paths, their sizes, the seconds taken and the largest probability difference seen."""
    import numpy as np
    import torch
    from torch.export import Dim
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from . import models
    _require_libraries()
    model_dir = model_dir_of(path)
    try:
        models.check_weights(str(model_dir))  # safetensors only
    except models.ModelError as err:
        raise ExportError(str(err)) from None
    started = time.perf_counter()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, use_safetensors=True, trust_remote_code=False, dtype=torch.float32).eval()
    sample = tokenizer(CHECK_TEXTS[:2], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    batch, sequence = Dim("batch"), Dim("sequence", max=512)
    target = onnx_path(model_dir)
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with _quiet():
            torch.onnx.export(model, (), str(tmp), kwargs={n: sample[n] for n in names}, input_names=names,
                              output_names=["logits"], opset_version=OPSET, dynamo=True, external_data=False,
                              dynamic_shapes={n: {0: batch, 1: sequence} for n in names}, verbose=False)
        os.replace(tmp, target)
    except Exception as err:  # the exporter's errors are long; the first line says what failed
        tmp.unlink(missing_ok=True)
        raise ExportError(f"The model could not be exported to ONNX ({type(err).__name__}: "
                          f"{str(err).splitlines()[0][:300] if str(err) else ''}).") from None
    # The exported graph must give PyTorch's answers: compare the probabilities on texts of other lengths.
    from .inference import Classifier
    reference = Classifier(model_dir, backend="torch").probabilities(CHECK_TEXTS)
    exported = Classifier(model_dir, backend="onnx").probabilities(CHECK_TEXTS)
    difference = float(np.abs(reference - exported).max())
    if difference > 1e-3:
        target.unlink()
        raise ExportError(f"The ONNX model's probabilities differ from PyTorch's by {difference:.4f}; it was not "
                          "kept. Please report this with the model's name.")
    result = {"onnx": str(target), "onnx_mb": round(target.stat().st_size / 2**20, 1), "max_difference": difference}
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantized = onnx_path(model_dir, int8=True)
        tmp = quantized.with_name(f".{quantized.name}.{os.getpid()}.tmp")
        with _quiet():
            # Per-channel scales and 7-bit weights: on sst2 (bench/onnx_speed.py) 97.1% of labels agreed with PyTorch
            # against 93.2% with one scale per tensor; reduce_range also avoids an overflow on CPUs without VNNI.
            quantize_dynamic(str(target), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.replace(tmp, quantized)
        result.update(int8=str(quantized), int8_mb=round(quantized.stat().st_size / 2**20, 1))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result
