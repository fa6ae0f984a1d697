"""Classify text with a finished run's model: one text, many texts, or a whole table into a CSV."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from . import data, models


class InferenceError(ValueError):
    """The model or the input cannot be used for prediction; the message says why."""


@dataclass
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]   # every label's probability, highest first

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "scores": self.scores}


BACKENDS = ("auto", "torch", "onnx", "onnx-int8")


class Classifier:
    """A saved model and its tokenizer, loaded once, in eval mode.

    backend: "torch" (PyTorch), "onnx" or "onnx-int8" (onnxruntime on the files `studio export --onnx [--int8]`
    wrote in the model folder), or "auto": the ONNX file when it is there and the device is the CPU, else PyTorch.
    """

    def __init__(self, model_dir: str | Path, device: str = "cpu", backend: str = "auto") -> None:
        from transformers import AutoConfig, AutoTokenizer
        from transformers.utils import logging as hf_logging
        from . import export
        hf_logging.disable_progress_bar()
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").exists():
            raise InferenceError(f"{model_dir} holds no trained model; pick a finished run.")
        if backend not in BACKENDS:
            raise InferenceError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        if backend == "auto":
            backend = "onnx" if export.has_onnx(model_dir) and torch.device(device).type == "cpu" else "torch"
        self.backend, self.device = backend, torch.device(device)
        if backend == "torch":
            try:
                models.check_weights(str(model_dir))  # safetensors only: pickle weights can run code when loaded
            except models.ModelError as err:
                raise InferenceError(str(err)) from None
        else:
            self.session = _onnx_session(export.onnx_path(model_dir, int8=backend == "onnx-int8"))
            self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
        if backend == "torch":
            from transformers import AutoModelForSequenceClassification
            self.model = AutoModelForSequenceClassification.from_pretrained(
                model_dir, use_safetensors=True, trust_remote_code=False, dtype=torch.float32).to(self.device).eval()
            config = self.model.config
        else:
            self.model, config = None, AutoConfig.from_pretrained(model_dir, trust_remote_code=False)
        self.labels = [config.id2label[i] for i in range(config.num_labels)]
        self.max_length = min(self.tokenizer.model_max_length, 512, getattr(config, "max_position_embeddings", 512))
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    def _logits(self, texts: list[str]) -> np.ndarray:
        if self.model is None:
            batch = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np")
            return self.session.run(["logits"], {n: batch[n].astype(np.int64) for n in self.input_names})[0]
        batch = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True,
                               return_tensors="pt").to(self.device)
        return self.model(**batch).logits.float().cpu().numpy()

    @torch.inference_mode()
    def probabilities(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """[len(texts), labels] probabilities; batches are formed by length so padding stays small."""
        texts = [str(t) if t is not None else "" for t in texts]
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with self._lock:
            for start in range(0, len(texts), batch_size):
                index = order[start:start + batch_size]
                logits = self._logits([texts[i] for i in index])
                out[index] = torch.softmax(torch.from_numpy(logits), -1).numpy()
        return out

    def predict(self, texts: list[str]) -> list[Prediction]:
        results = []
        for row in self.probabilities(texts):
            ranked = np.argsort(-row)
            scores = {self.labels[i]: round(float(row[i]), 6) for i in ranked}
            results.append(Prediction(self.labels[ranked[0]], scores[self.labels[ranked[0]]], scores))
        return results

    def predict_one(self, text: str) -> Prediction:
        if not text or not text.strip():
            raise InferenceError("Type some text to classify.")
        return self.predict([text])[0]

    def classify_file(self, path: str | Path, out_path: str | Path, text_column: str | None = None) -> dict:
        """Read a table, add `predicted_label` and `confidence` columns, write it to out_path: .xlsx when out_path
        ends so, else UTF-8 CSV with a byte-order mark (data.write_table)."""
        table = data.read_table(path)
        frame = table.frame
        if text_column is None:
            text_column = guess_text_column(frame)
        elif text_column not in frame.columns:
            raise InferenceError(f"There is no column {text_column!r}; the columns are {', '.join(map(str, frame.columns))}.")
        texts = frame[text_column].fillna("").astype(str).tolist()
        probs = self.probabilities(texts)
        frame = frame.copy()
        frame["predicted_label"] = [self.labels[i] for i in probs.argmax(-1)]
        frame["confidence"] = probs.max(-1).round(4)
        data.write_table(frame, out_path)
        return {"rows": len(frame), "text_column": text_column, "path": str(out_path),
                "label_counts": frame["predicted_label"].value_counts().to_dict()}


def guess_text_column(frame) -> str:
    """The column of a table to classify: the detected text column, else the one with the longest values."""
    try:
        return data.detect_columns(frame)[0]
    except data.DataError:
        lengths = {c: frame[c].fillna("").astype(str).str.len().mean() for c in frame.columns}
        if not lengths:
            raise InferenceError("The file has no columns to classify.") from None
        return max(lengths, key=lengths.get)


def _onnx_session(path: Path):
    try:
        import onnxruntime
    except ImportError:
        raise InferenceError("Serving from ONNX needs onnxruntime: pip install 'studio[onnx]'.") from None
    if not path.is_file():
        raise InferenceError(f"There is no {path.name} in this model folder; make it with: "
                             f"python -m studio export RUN_DIR --onnx{' --int8' if 'quantized' in path.name else ''}")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3   # errors only
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=4)
def _cached(model_dir: str, mtime: float, device: str, backend: str, onnx_mtime: float) -> Classifier:
    return Classifier(model_dir, device, backend)


def load_classifier(model_dir: str | Path, device: str = "cpu", backend: str = "auto") -> Classifier:
    """The classifier for a model folder, loaded once and reused (reloaded if the folder or its ONNX files were
    replaced); `backend` as in Classifier."""
    from . import export
    model_dir = Path(model_dir).resolve()
    config = model_dir / "config.json"
    if not config.exists():
        raise InferenceError(f"{model_dir} holds no trained model; pick a finished run.")
    onnx_files = [export.onnx_path(model_dir, int8) for int8 in (False, True)]
    onnx_mtime = max([p.stat().st_mtime for p in onnx_files if p.exists()], default=0.0)
    return _cached(str(model_dir), config.stat().st_mtime, device, backend, onnx_mtime)
