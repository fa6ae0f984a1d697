"""What a user would pick instead of the studio, fitted on the same rows: TF-IDF or frozen sentence vectors with a
logistic regression (its C chosen by cross-validation on the training sample), and SetFit where it is installed.

Run by bench/worker.py baseline in a process of its own; the frozen vectors are cached per data set.
"""
from __future__ import annotations

import fcntl
import json
import os
import random
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from harness import scores

C_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)
FOLDS = 3


# --- cross-validation ------------------------------------------------------------------------
def cv_folds(labels: list, k: int = FOLDS, seed: int = 0) -> tuple[list[list[int]], str]:
    """Validation folds and how they were made: stratified k-fold when every class has k rows, fewer folds when
    the smallest class has fewer (2 at least), otherwise shuffled folds that cannot keep every class in each."""
    by_class: dict = {}
    for i, y in enumerate(labels):
        by_class.setdefault(y, []).append(i)
    rng = random.Random(seed)
    smallest = min(len(v) for v in by_class.values())
    folds_n = min(k, smallest)
    if folds_n >= 2:
        folds: list[list[int]] = [[] for _ in range(folds_n)]
        offset = 0
        for y in sorted(by_class, key=str):
            rows = by_class[y][:]
            rng.shuffle(rows)
            for j, i in enumerate(rows):  # round-robin, continuing where the last class stopped, keeps folds even
                folds[(offset + j) % folds_n].append(i)
            offset += len(rows)
        how = f"{folds_n}-fold stratified" + ("" if folds_n == k else f" (the smallest class has {smallest} rows)")
        return [sorted(f) for f in folds], how
    rows = list(range(len(labels)))
    rng.shuffle(rows)
    return [sorted(rows[j::k]) for j in range(k)], f"{k}-fold, not stratified (a class has a single row)"


def choose_c(fit_predict, labels: list, seed: int, grid=C_GRID) -> tuple[float, str, dict]:
    """The C of the best cross-validated macro-F1; folds whose training part holds one class are skipped.
    fit_predict(train_rows, test_rows, C) -> predicted labels of test_rows."""
    folds, how = cv_folds(labels, FOLDS, seed)
    everyone = set(range(len(labels)))
    results = {}
    for c in grid:
        truth, guess = [], []
        for held in folds:
            train_rows = sorted(everyone - set(held))
            if len({labels[i] for i in train_rows}) < 2 or not held:
                continue
            truth += [labels[i] for i in held]
            guess += list(fit_predict(train_rows, held, c))
        if truth:
            results[c] = scores(truth, guess)["macro_f1"]
    if not results:
        return 1.0, "no cross-validation (too few rows); C = 1", {}
    best = max(grid, key=lambda c: (results.get(c, -1.0), -abs(np.log10(c))))  # ties: the C nearest 1
    return best, how, results


def logistic(c: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=c, max_iter=3000, random_state=seed)


# --- TF-IDF + logistic regression ------------------------------------------------------------
def tfidf_features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion
    return FeatureUnion([("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
                         ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))])


def tfidf_lr(train_texts: list[str], train_labels: list[str], test_texts: list[str], seed: int) -> dict:
    from sklearn.pipeline import make_pipeline
    t0 = time.perf_counter()
    texts = np.array(train_texts, dtype=object)
    y = np.array(train_labels, dtype=object)

    def fit_predict(rows, held, c):
        model = make_pipeline(tfidf_features(), logistic(c, seed)).fit(texts[rows], y[rows])
        return model.predict(texts[held])
    c, how, cv = choose_c(fit_predict, train_labels, seed)
    model = make_pipeline(tfidf_features(), logistic(c, seed)).fit(texts, y)
    fit_s = time.perf_counter() - t0
    proba = model.predict_proba(test_texts)
    return {"predicted": list(model.classes_[proba.argmax(1)]), "confidence": proba.max(1).tolist(),
            "train_seconds": fit_s, "C": c, "cv": how, "cv_macro_f1": cv}


# --- frozen sentence vectors + logistic regression -------------------------------------------
def embed_lr(train_texts: list[str], train_labels: list[str], test_texts: list[str], seed: int,
             cache: Path, model_path: str) -> dict:
    t0 = time.perf_counter()
    vectors = cached_vectors(cache, model_path, train_texts + test_texts)
    embed_s = time.perf_counter() - t0
    x_train = np.stack([vectors[t] for t in train_texts])
    x_test = np.stack([vectors[t] for t in test_texts])
    y = np.array(train_labels, dtype=object)
    t0 = time.perf_counter()

    def fit_predict(rows, held, c):
        return logistic(c, seed).fit(x_train[rows], y[rows]).predict(x_train[held])
    c, how, cv = choose_c(fit_predict, train_labels, seed)
    model = logistic(c, seed).fit(x_train, y)
    fit_s = time.perf_counter() - t0
    proba = model.predict_proba(x_test)
    return {"predicted": list(model.classes_[proba.argmax(1)]), "confidence": proba.max(1).tolist(),
            "train_seconds": fit_s, "embed_seconds": embed_s, "C": c, "cv": how, "cv_macro_f1": cv}


@contextmanager
def locked(path: Path):
    """An exclusive lock on a file beside the cache, so two cells of one data set do not both compute it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cached_vectors(cache: Path, model_path: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Vectors for these texts, from `cache` (CACHE.npy + CACHE.json, the texts in row order); the missing ones
    are computed and added."""
    matrix, index = Path(f"{cache}.npy"), Path(f"{cache}.json")
    with locked(Path(f"{cache}.lock")):
        known: list[str] = json.loads(index.read_text(encoding="utf-8")) if index.exists() else []
        stored = np.load(matrix) if matrix.exists() else np.zeros((0, 0), dtype=np.float32)
        have = set(known)
        missing = sorted({t for t in texts if t not in have})
        if missing:
            fresh = encode(missing, model_path)
            stored = fresh if not known else np.concatenate([stored, fresh])
            known += missing
            np.save(f"{cache}.tmp.npy", stored)
            Path(f"{cache}.tmp.json").write_text(json.dumps(known), encoding="utf-8")
            os.replace(f"{cache}.tmp.npy", matrix)
            os.replace(f"{cache}.tmp.json", index)
    rows = {t: i for i, t in enumerate(known)}
    return {t: stored[rows[t]] for t in set(texts)}


def encode(texts: list[str], model_path: str, batch: int = 64, max_length: int = 128) -> np.ndarray:
    """Mean of the last hidden states over the real tokens, L2-normalised: how sentence-transformers pools MiniLM."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together: less padding
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            enc = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_length,
                            return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[rows] = torch.nn.functional.normalize(mean, dim=-1).numpy()
    return out


# --- SetFit ------------------------------------------------------------------------------------
def setfit_run(train_texts: list[str], train_labels: list[str], test_texts: list[str], seed: int,
               model_path: str) -> dict:
    """SetFit as its paper runs it: one epoch of 20 contrastive pairs per training row on the body (its v0 default;
    v1's default draws every pair, which grows with the square of the rows), then its logistic head."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    names = sorted(set(train_labels))
    ids = {y: i for i, y in enumerate(names)}
    t0 = time.perf_counter()
    model = SetFitModel.from_pretrained(model_path)
    args = TrainingArguments(batch_size=16, num_epochs=1, num_iterations=20, seed=seed, report_to="none",
                             save_strategy="no")
    data = Dataset.from_dict({"text": train_texts, "label": [ids[y] for y in train_labels]})
    Trainer(model=model, args=args, train_dataset=data).train()
    fit_s = time.perf_counter() - t0
    proba = np.asarray(model.predict_proba(test_texts))
    return {"predicted": [names[i] for i in proba.argmax(1)], "confidence": proba.max(1).tolist(),
            "train_seconds": fit_s}
