"""One measurement in a clean process, started by bench/run.py (which reads this process's peak memory).

  worker.py train CONFIG.json OUT_DIR [--warm] [--cancel-after-first-step] [--threads N]
      studio.training.train(RunConfig) with timestamps of its events; prints `BENCH first_step` the moment
      the first step event arrives and `BENCH_RESULT {...}` at the end.
  worker.py baseline SPEC.json [--threads N]
      one baseline of bench/quality.py (tfidf_lr, embed_lr, setfit) fitted on SPEC's training file and scored on
      its test file; writes predictions.jsonl as the studio does and prints `BENCH_RESULT {...}`.
  worker.py infer MODEL_DIR TEXTS.json [--calls N] [--warmup N]
      playground latency (Classifier.predict_one, one sentence per call, texts["one"]) and batch throughput
      (Classifier.predict over texts["batch"]). MODEL_DIR "bundled": the bundled model with an untrained head.
  worker.py mfu [--batch 64] [--length 128] [--steps 30]
      GPU only: BERT-base built from its config, one training step as the studio takes it (fp32 weights,
      bf16 autocast, fused AdamW, gradient clipping), timed; model FLOPs utilisation against the GPU's bf16 peak.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

T_PROCESS = time.time()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def say(tag: str, payload=None) -> None:
    print(tag if payload is None else f"{tag} {json.dumps(payload)}", flush=True)


def set_threads(n: int) -> None:
    if n:
        import torch
        torch.set_num_threads(n)


def cmd_train(a) -> int:
    set_threads(a.threads)
    if a.warm:  # the app's process: transformers and the model classes already imported
        import transformers  # noqa: F401
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer  # noqa: F401
        import transformers.models.bert.modeling_bert  # noqa: F401
    from studio import training
    from studio.config import RunConfig
    import harness

    config = RunConfig.from_dict(json.loads(Path(a.config).read_text()))
    events: list[dict] = []
    first_step = {"seen": False}

    def emit(event: dict) -> None:
        now = time.perf_counter() - t_call
        events.append({**event, "_t": round(now, 4)})
        if event.get("type") == "step" and not first_step["seen"]:
            first_step["seen"] = True
            say("BENCH", {"first_step": round(now, 4)})

    def should_stop() -> bool:
        return a.cancel_after_first_step and first_step["seen"]

    t_call = time.perf_counter()
    result: dict = {"t_process_start": T_PROCESS, "t_call_since_process_start": round(time.time() - T_PROCESS, 4)}
    try:
        report = training.train(config, a.out, emit, should_stop)
    except training.Cancelled:
        report = None
    wall = time.perf_counter() - t_call

    def first(kind):
        return next((e["_t"] for e in events if e.get("type") == kind), None)
    started = next((e for e in events if e.get("type") == "started"), {})
    notes = [e["message"] for e in events if e.get("type") == "note"]
    evals = [{k: e[k] for k in ("step", "epoch", "loss", "accuracy", "macro_f1", "_t")} for e in events if e.get("type") == "eval"]
    result.update({
        "call_to_started_s": first("started"), "call_to_first_step_s": first("step"), "train_call_wall_s": round(wall, 3),
        "train_rows": started.get("train_rows"), "validation_rows": started.get("validation_rows"),
        "test_rows": started.get("test_rows"), "total_steps": started.get("total_steps"),
        "batch_size": started.get("batch_size"), "learning_rate": started.get("learning_rate"),
        "frozen_cached": started.get("frozen_cached"), "device": started.get("device"), "bf16": started.get("bf16"),
        "notes": notes, "logs": [e["message"] for e in events if e.get("type") == "log"],
        "evals": evals, "cancelled": report is None,
        "losses": [(e["step"], e["loss"]) for e in events if e.get("type") == "step"],
    })
    if report is not None:
        predictions = [json.loads(line) for line in (Path(a.out) / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
        again = harness.scores([p["label"] for p in predictions], [p["predicted"] for p in predictions], report["labels"])
        result.update({
            "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "accuracy_recomputed": again["accuracy"], "macro_f1_recomputed": again["macro_f1"],
            "train_seconds": report["train_seconds"], "steps": report["steps"],
            "train_samples_per_s": report["train_samples_per_s"], "best_step": report["best_step"],
            "best_validation_accuracy": report.get("best_validation_accuracy"),
            "epochs_done": round(report["steps"] / max(1, started.get("steps_per_epoch") or 1), 3),
            "method": report.get("method"), "freeze_layers": report.get("freeze_layers"),
        })
    say("BENCH_RESULT", result)
    return 0


def cmd_baseline(a) -> int:
    set_threads(a.threads)
    import baselines
    import quality_core as core

    spec = json.loads(Path(a.spec).read_text(encoding="utf-8"))
    ds = core.DATASETS[spec["dataset"]]
    train = core.read_table(spec["train_file"], ds.fmt)
    test = core.read_table(spec["test_file"], ds.fmt)
    x, y = train.column(ds.text), train.column(ds.label)
    test_x, test_y = test.column(ds.text), test.column(ds.label)
    method = spec["method"]
    if method == "tfidf_lr":
        out = baselines.tfidf_lr(x, y, test_x, spec["seed"])
    elif method == "embed_lr":
        out = baselines.embed_lr(x, y, test_x, spec["seed"], Path(spec["cache"]), spec["model"])
    elif method == "setfit":
        out = baselines.setfit_run(x, y, test_x, spec["seed"], spec["model"])
    else:
        raise SystemExit(f"Unknown baseline {method!r}; choose tfidf_lr, embed_lr or setfit.")
    folder = Path(spec["out_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "predictions.jsonl", "w", encoding="utf-8") as f:
        for text, label, guess, conf in zip(test_x, test_y, out["predicted"], out["confidence"]):
            f.write(json.dumps({"text": text, "label": label, "predicted": str(guess), "confidence": conf}) + "\n")
    result = core.prediction_stats(test_y, [str(p) for p in out["predicted"]])
    result.update({k: v for k, v in out.items() if k not in ("predicted", "confidence")})
    result.update({"train_rows": len(x), "test_rows": len(test_x)})
    say("BENCH_RESULT", result)
    return 0


def cmd_infer(a) -> int:
    import torch
    from studio.inference import Classifier
    import harness

    given = json.loads(Path(a.texts).read_text(encoding="utf-8"))
    one, texts = [t for t in given["one"] if t.strip()], given["batch"]
    model_dir = Path(a.model)
    if a.model == "bundled":  # no trained model to hand: the bundled body with a fresh head times the same
        from studio import models
        model_dir = Path(a.scratch) / "bundled-head"
        model = models.load_model(models.DEFAULT_MODEL, ["0", "1"])
        model.save_pretrained(model_dir, safe_serialization=True)
        models.load_tokenizer(models.DEFAULT_MODEL).save_pretrained(model_dir)
    t0 = time.perf_counter()
    clf = Classifier(model_dir, device="cpu")
    load_s = time.perf_counter() - t0
    for text in one[:a.warmup]:
        clf.predict_one(text)
    latencies = []
    for i in range(a.calls):
        text = one[(a.warmup + i) % len(one)]
        t = time.perf_counter()
        clf.predict_one(text)
        latencies.append((time.perf_counter() - t) * 1000)
    clf.predict(texts[:64])  # warm the batch path too
    t = time.perf_counter()
    clf.predict(texts)
    batch_s = time.perf_counter() - t
    lengths = [len(ids) for ids in clf.tokenizer(texts, truncation=True, max_length=clf.max_length)["input_ids"]]
    say("BENCH_RESULT", {
        "load_s": round(load_s, 3), "calls": len(latencies), "p50_ms": harness.percentile(latencies, 50),
        "p95_ms": harness.percentile(latencies, 95), "mean_ms": sum(latencies) / len(latencies),
        "batch_sentences": len(texts), "batch_s": batch_s, "batch_sentences_per_s": len(texts) / batch_s,
        "mean_tokens": sum(lengths) / len(lengths), "torch_threads": torch.get_num_threads()})
    return 0


# bf16 dense tensor-core peaks (no sparsity), FLOP/s, by a piece of the device name
BF16_PEAK = [("H200", 989.4e12), ("H100 PCIe", 756.0e12), ("H100", 989.4e12), ("A100", 312e12), ("L40S", 362e12),
             ("A10G", 70e12), ("A10", 125e12), ("L4", 121e12)]


def cmd_mfu(a) -> int:
    import torch
    from torch import nn
    from transformers import BertConfig, BertForSequenceClassification
    from studio import steps
    if a.device == "cuda" and not torch.cuda.is_available():
        say("BENCH_RESULT", {"error": "no CUDA device"})
        return 2
    device = torch.device(a.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = next((p for key, p in BF16_PEAK if key in name), None) if device.type == "cuda" else None
    cfg = BertConfig(num_labels=2)  # BERT-base: 12 layers, 768 wide, 3072 feed-forward
    if a.layers:
        cfg.num_hidden_layers = a.layers  # a smoke test on a small machine
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg).to(device).train()
    # The studio's own training step: fused AdamW, bf16 autocast, clipping; replayed from a CUDA graph.
    optimizer = steps.optimizer_for(model, 4e-5, 0.01, device, capturable=True)
    ids = torch.randint(1000, cfg.vocab_size, (a.batch, a.length), device=device)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (a.batch,), device=device)
    index = torch.arange(a.batch, device=device)
    autocast = steps.bf16_autocast if device.type == "cuda" else (lambda: torch.autocast("cpu", dtype=torch.bfloat16))

    def timed(use_graphs: bool) -> float:
        stepper = steps.Stepper(model, optimizer, nn.CrossEntropyLoss(),
                                lambda i, w: ({"input_ids": ids[i], "attention_mask": mask[i]}, labels[i]),
                                a.batch, device, autocast, use_graphs)
        for _ in range(a.warmup):
            stepper.step(index, a.length)
        sync()
        t = time.perf_counter()
        for _ in range(a.steps):
            stepper.step(index, a.length)
        sync()
        if use_graphs and not stepper.graphs:
            raise RuntimeError(f"no CUDA graph was captured: {stepper.fallback_reason}")
        return (time.perf_counter() - t) / a.steps

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    eager_step = timed(False)
    per_step = timed(device.type == "cuda")
    d, layers, ff, length = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size, a.length
    matmul_params = layers * (4 * d * d + 2 * d * ff) + d * d + d * 2  # attention + feed-forward + pooler + head
    tokens = a.batch * length
    # forward 2 FLOPs per multiply-add, backward twice that: 6 per weight per token; attention scores and mixing
    # add 4*L*L*d per layer and sequence forward, 12*L*L*d with backward
    flops = 6 * matmul_params * tokens + 12 * layers * length * length * d * a.batch
    achieved = flops / per_step
    say("BENCH_RESULT", {"device_name": name, "layers": layers, "batch": a.batch, "length": length, "step_s": per_step,
                         "flops_per_step": flops, "achieved_flops": achieved, "peak_bf16_flops": peak,
                         "mfu": achieved / peak if peak else None, "samples_per_s": a.batch / per_step,
                         "eager_step_s": eager_step, "eager_mfu": flops / eager_step / peak if peak else None})
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("config")
    t.add_argument("out")
    t.add_argument("--warm", action="store_true")
    t.add_argument("--cancel-after-first-step", action="store_true")
    t.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    b = sub.add_parser("baseline")
    b.add_argument("spec")
    b.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    i = sub.add_parser("infer")
    i.add_argument("model")
    i.add_argument("texts")
    i.add_argument("--calls", type=int, default=200)
    i.add_argument("--warmup", type=int, default=10)
    i.add_argument("--scratch", default=".")
    m = sub.add_parser("mfu")
    m.add_argument("--batch", type=int, default=64)
    m.add_argument("--length", type=int, default=128)
    m.add_argument("--steps", type=int, default=30)
    m.add_argument("--warmup", type=int, default=5)
    m.add_argument("--device", default="cuda")
    m.add_argument("--layers", type=int, default=0, help="fewer layers than BERT-base's 12, for a smoke test")
    a = p.parse_args()
    return {"train": cmd_train, "baseline": cmd_baseline, "infer": cmd_infer, "mfu": cmd_mfu}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
