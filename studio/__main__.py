"""Command line: python -m studio inspect | train | resume | predict | runs | models | export | compare | push | serve
| demo (installed: studio ...).

`serve` starts the studio in the browser and `demo RUN_DIR` a public demo of one run; both take the
options of `python launch.py` and import gradio only when they run, so the rest stays usable without it.

Bad input or a bad option ends with exit code 2 and one sentence on stderr, never a traceback.
`inspect` exits 0 when the data is fit to train on, 1 when the report holds an error (one class
only, say), 2 when the file cannot be read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import METHODS, ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from .knobs import HELP

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Ends the command with exit code 2 and this sentence."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one sentence, not a usage dump
        hint = self.prog.replace("studio", "python -m studio", 1)
        raise UserError(f"{message[0].upper()}{message[1:]} (see: {hint} --help).")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="studio", description="Fine-tune a text classifier on your own labelled table.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ins = sub.add_parser("inspect", help="check a data file and report problems before training")
    ins.add_argument("file")
    ins.add_argument("--text-column")
    ins.add_argument("--label-column")
    ins.add_argument("--encoding", help="override the detected encoding, e.g. gb18030 or cp1252")
    ins.add_argument("--test-file", help="a separate test file, checked for overlap with FILE")
    ins.add_argument("--model", default=None, help="measure token lengths with this model's tokenizer")
    ins.add_argument("--max-length", type=int, default=128)
    ins.add_argument("--json", action="store_true", help="print the report as JSON")

    tr = sub.add_parser("train", help="train a classifier in the foreground")
    tr.add_argument("file")
    tr.add_argument("--test-file")
    tr.add_argument("--validation-file")
    tr.add_argument("--text-column")
    tr.add_argument("--label-column")
    tr.add_argument("--split-column", help=HELP["split_column"])
    tr.add_argument("--encoding", help=HELP["encoding"])
    tr.add_argument("--model", default=None, help="catalog name, hub id or local folder (default: the bundled model)")
    tr.add_argument("--method", choices=METHODS, help="auto (default): full fine-tuning or the head alone, chosen "
                    "from the data when training starts; full; freeze (see --freeze); lora (see --lora)")
    how = tr.add_mutually_exclusive_group()
    how.add_argument("--freeze", metavar="K", help="freeze the embeddings and the bottom K layers ('all': train the "
                     "head only); implies --method freeze")
    how.add_argument("--lora", type=int, metavar="R", help="train LoRA adapters of rank R instead of the whole model; "
                     "implies --method lora")
    tr.add_argument("--preset", default=None, help=HELP["preset"])
    tr.add_argument("--epochs", type=float, help=HELP["epochs"])
    tr.add_argument("--lr", type=float, help=HELP["learning_rate"])
    tr.add_argument("--batch-size", type=int, help=HELP["batch_size"])
    tr.add_argument("--max-length", type=int, help=HELP["max_length"])
    tr.add_argument("--patience", type=int, help=HELP["patience"])
    tr.add_argument("--class-weights", action="store_true", help=HELP["class_weights"])
    tr.add_argument("--seed", type=int, help=HELP["seed"])
    tr.add_argument("--device", help="auto (default), cpu, cuda or mps")
    tr.add_argument("--max-rows", type=int, help=HELP["max_rows"])
    tr.add_argument("--devices", type=int, help="train on N processes, one per GPU (or N CPU processes), through "
                    "torchrun; --batch-size is then the batch of all of them together")
    tr.add_argument("--runs-dir", default="runs")
    tr.add_argument("--name", default="")
    tr.add_argument("--json", action="store_true", help="print progress as JSON lines")
    tr.add_argument("--mlflow", nargs="?", const="", default=None, metavar="URI",
                    help="also log the run to MLflow (default store: RUNS_DIR/mlflow.db, or MLFLOW_TRACKING_URI)")

    pr = sub.add_parser("predict", help="classify texts or a file with a trained run")
    pr.add_argument("run_dir", help="a run folder (runs/<id>) or its model folder")
    pr.add_argument("texts", nargs="*")
    pr.add_argument("--file", help="a table to classify")
    pr.add_argument("--text-column")
    pr.add_argument("--out", help="where to write the classified table: OUT.xlsx for Excel, else CSV (UTF-8 with a "
                    "byte-order mark, so Excel shows every script)")
    pr.add_argument("--json", action="store_true")
    pr.add_argument("--backend", choices=("auto", "torch", "onnx", "onnx-int8"), default="auto",
                    help="auto (default): the ONNX file when `studio export` made one, else PyTorch")

    rs = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint, in the foreground")
    rs.add_argument("run_dir", help="the run folder, runs/<id>")
    rs.add_argument("--json", action="store_true", help="print progress as JSON lines")

    ls = sub.add_parser("runs", help="list training runs")
    ls.add_argument("--runs-dir", default="runs")
    ls.add_argument("--json", action="store_true")

    mo = sub.add_parser("models", help="which base models can be used now, and whether they read a data file")
    mo.add_argument("file", nargs="?", help="a data file: report the share of its tokens each usable model cannot read")
    mo.add_argument("--text-column")
    mo.add_argument("--model", action="append", help="a hub id or model folder to check besides the catalog")
    mo.add_argument("--json", action="store_true")

    ex = sub.add_parser("export", help="export a run's model to ONNX for fast CPU inference")
    ex.add_argument("run_dir", help="a finished run's folder (runs/<id>) or its model folder")
    ex.add_argument("--onnx", action="store_true", required=True, help="write model/onnx/model.onnx")
    ex.add_argument("--int8", action="store_true", help="also write model/onnx/model_quantized.onnx with int8 weights")
    ex.add_argument("--json", action="store_true")

    cp = sub.add_parser("compare", help="compare two or more runs: settings, scores, per-example differences")
    cp.add_argument("run_dirs", nargs="+", metavar="RUN", help="run folders (or run ids with --runs-dir)")
    cp.add_argument("--runs-dir", default="runs", help="where run ids are looked up (default: ./runs)")
    cp.add_argument("--examples", type=int, default=5, help="how many fixed and broken texts to show (default 5)")
    cp.add_argument("--json", action="store_true")

    pu = sub.add_parser("push", help="upload a run's model folder with its model card to the Hugging Face Hub")
    pu.add_argument("run_dir", help="a finished run's folder (runs/<id>)")
    pu.add_argument("--repo", required=True, help="the Hub repository, e.g. your-name/support-tickets")
    pu.add_argument("--public", action="store_true", help="make the repository public (default: private)")
    pu.add_argument("--token", default=None, help="a Hugging Face token (default: HF_TOKEN or the saved login)")

    # Their options are the web apps' own (see `studio serve --help`): main() hands them over before parsing.
    sub.add_parser("serve", add_help=False, help="start the studio in the browser (options: studio serve --help)")
    sub.add_parser("demo", add_help=False, help="serve a demo of one trained run (options: studio demo --help)")
    return p


# --- inspect ---------------------------------------------------------------------------------
def cmd_inspect(a) -> int:
    from . import data, models
    RunConfig(data=DataConfig(train_file=a.file), train=TrainConfig(max_length=a.max_length)).validate()
    try:  # bounded and quick: a file that cannot be read is answered before the tokenizer loads
        source = data.read_table(a.file, encoding=a.encoding)
    except data.DataError:
        source = None  # the report says why
    tokenizer = models.load_tokenizer(a.model or models.DEFAULT_MODEL) if source is not None else None
    report = data.inspect(source if source is not None else a.file, a.text_column, a.label_column,
                          tokenizer=tokenizer, max_length=a.max_length, test=a.test_file, encoding=a.encoding)
    unreadable = [f for f in report.findings if f.code == "unreadable"]
    if unreadable and not a.json:
        raise UserError(unreadable[0].message)
    if a.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{a.file}: {report.rows:,} rows, columns {', '.join(map(str, report.columns))}")
        print(f"  text column: {report.text_column}   label column: {report.label_column}   "
              f"encoding: {report.encoding}   delimiter: {report.delimiter!r}")
        if report.label_counts:
            shown = ", ".join(f"{k} {v:,}" for k, v in list(report.label_counts.items())[:12])
            more = len(report.label_counts) - 12
            count = len(report.label_counts)
            print(f"  {count} label{'' if count == 1 else 's'}: {shown}{f', and {more} more' if more > 0 else ''}")
        if report.token_lengths:
            t = report.token_lengths
            print(f"  tokens per text: median {t['p50']}, 95% under {t['p95']}, longest {t['max']}")
        for f in report.findings:
            print(f"  [{f.severity}] {f.message}")
        if not report.findings:
            print("  No problems found.")
    if unreadable:
        print(unreadable[0].message, file=sys.stderr)
        return EXIT_BAD_INPUT
    return 1 if report.has_errors else 0


# --- train -----------------------------------------------------------------------------------
def build_config(a) -> RunConfig:
    """The run's settings from the parsed options: presets.build_config does the rest."""
    from . import models, presets
    from .training import pick_device
    method, freeze_layers = method_of(a), freeze_layers_of(a)
    for path in (a.file, a.validation_file, a.test_file):
        if path and not Path(path).is_file():
            raise UserError(f"There is no file {path}; check the path.")
    data = DataConfig(train_file=a.file, validation_file=a.validation_file, test_file=a.test_file,
                      text_column=a.text_column, label_column=a.label_column, split_column=a.split_column,
                      encoding=a.encoding, max_rows=a.max_rows)
    model_name = a.model or models.DEFAULT_MODEL
    model_config = models.load_config(model_name)
    try:
        device = pick_device(a.device or "auto")
    except RuntimeError:
        raise UserError(f"Unknown device {a.device!r}; choose auto, cpu, cuda or mps.") from None
    check_device(device)
    device_type = device.type
    overrides = {"epochs": a.epochs, "learning_rate": a.lr, "batch_size": a.batch_size, "max_length": a.max_length,
                 "patience": a.patience, "seed": a.seed, "device": a.device, "class_weights": a.class_weights,
                 "devices": a.devices}
    return presets.build_config(data, model_name, method, a.preset or presets.DEFAULT_PRESET, device_type,
                                hidden_size=getattr(model_config, "hidden_size", 768),
                                layer_count=models.layer_count_of(model_config), freeze_layers=freeze_layers,
                                lora_r=a.lora if a.lora is not None else ModelConfig.lora_r, overrides=overrides,
                                name=a.name).validate()


def check_device(device) -> None:
    """A device this PyTorch cannot use ends the command before a run folder is made."""
    import torch
    if device.type == "cuda":
        if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
            raise UserError(f"--device {device} needs a CUDA build of PyTorch, and this one (torch "
                            f"{torch.__version__}) is built for the CPU only; leave --device out to train on the CPU, "
                            "or install PyTorch's CUDA build (see the README's GPU note).")
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise UserError(f"--device {device}: PyTorch sees no CUDA GPU on this computer (check the driver with "
                            "nvidia-smi); leave --device out to train on the CPU.")
        if device.index is not None and device.index >= count:
            raise UserError(f"--device {device}: there is no GPU number {device.index}; this computer has {count} "
                            f"(cuda:0 to cuda:{count - 1}).")
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if not (mps and mps.is_available()):
            raise UserError(f"--device {device} needs an Apple GPU (MPS), which this computer or PyTorch build "
                            "does not offer; leave --device out to train on the CPU.")
    elif device.type != "cpu":
        raise UserError(f"Unknown device {str(device)!r}; choose auto, cpu, cuda or mps.")


def method_of(a) -> str:
    """--method, or the method --freeze or --lora implies; auto when none is given."""
    implied = "freeze" if a.freeze is not None else "lora" if a.lora is not None else None
    if a.method and implied and a.method != implied:
        flag = "--freeze" if implied == "freeze" else "--lora"
        raise UserError(f"{flag} trains with method {implied}, so it cannot go with --method {a.method}.")
    return a.method or implied or "auto"


def freeze_layers_of(a) -> int | None:
    """-1 for --freeze all, K for --freeze K, None (the default depth) without --freeze."""
    if a.freeze is None:
        return None
    if str(a.freeze).lower() == "all":
        return -1
    layers = _int(a.freeze, "--freeze takes a number of layers or 'all'.")
    if layers < 0:
        raise UserError("--freeze takes a number of layers or 'all'.")
    return layers


def _int(value: str, message: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UserError(message) from None


def check_data(config: RunConfig) -> None:
    """Read and split the data as training will, so a file that cannot be used ends the command (exit 2)
    before a run folder is made."""
    from .training import prepare_splits
    try:
        prepare_splits(config)
    except UnicodeError as err:
        raise UserError(f"The data could not be read as text ({err}); save it as UTF-8 or name its encoding "
                        "with --encoding.") from None


def _print_event(event: dict) -> None:
    kind = event.get("type")
    if kind == "started":
        print(f"Training on {event['device']}: {event['split']}", flush=True)
        print(f"  {event['trainable_parameters']:,} of {event['total_parameters']:,} parameters trainable; "
              f"{event['total_steps']:,} steps of batch {event['batch_size']}", flush=True)
    elif kind == "step":
        print(f"  step {event['step']:>5}  epoch {event['epoch']:.2f}  loss {event['loss']:.4f}  "
              f"{event['samples_per_s']:.0f} samples/s  {event['progress']:.0%}  ETA {event['eta_s']:.0f}s", flush=True)
    elif kind == "eval":
        where = "fitted head" if event.get("probe") else f"epoch {event['epoch']:.2f}"
        print(f"  validation  {where}  loss {event['loss']:.4f}  accuracy {event['accuracy']:.2%}  "
              f"macro-F1 {event['macro_f1']:.3f}{'  (one label for every row)' if event.get('single_label') else ''}"
              f"{'  (best so far)' if event['best'] else ''}", flush=True)
    elif kind in ("note", "failed"):
        print(f"  {event['message']}", flush=True)


def cmd_train(a) -> int:
    """Train in this process. SIGINT or SIGTERM stops at the next step keeping the best model so far (exit 0);
    a second one stops without keeping it."""
    from . import data, jobs, runs
    from .runs import Run
    if a.devices and a.devices > 1:
        return cmd_train_distributed(a)
    config = build_config(a)
    data.check_settings(config.data)  # unreadable input or a column that is not there: exit 2, and no run folder
    check_data(config)
    if a.mlflow is not None:   # TensorBoard files are written in every run folder; MLflow when asked
        from .tracking import default_mlflow_uri
        config.mlflow_uri = a.mlflow or os.environ.get("MLFLOW_TRACKING_URI") or default_mlflow_uri(a.runs_dir)
    try:
        run, lease = Run.create_leased(a.runs_dir, config)
    except OSError as err:
        if runs.write_failure(err, a.runs_dir):
            raise  # a full or read-only disk: main() says so in one sentence
        raise UserError(f"Cannot make a run folder in {a.runs_dir} ({err.strerror or err}); "
                        "choose another folder with --runs-dir.") from None
    echo = (lambda e: print(json.dumps(e, ensure_ascii=False), flush=True)) if a.json else _print_event
    signalled = []

    def say(sentence: str) -> None:
        signalled.append(sentence)
        print(sentence, file=sys.stderr, flush=True)

    try:
        with lease, jobs.stop_on_signals(run.path, say=say):
            status = jobs.execute(run, echo=echo)
    except KeyboardInterrupt:
        run.append_event({"type": "cancelled"})
        run.set_status("cancelled", "Stopped from the keyboard; no model was saved.")
        print("Stopped; no model was saved.", file=sys.stderr)
        return 130
    metrics = run.metrics()
    if a.json:
        print(json.dumps({"type": "result", "run_dir": str(run.path), "state": status["state"],
                          "message": status["message"], "metrics": _headline(metrics),
                          "baseline": (metrics or {}).get("baseline"), "warnings": (metrics or {}).get("warnings", [])},
                         ensure_ascii=False))
    else:
        print(f"Run folder: {run.path}")
        if metrics:
            _print_result(metrics)
    if status["state"] == "finished" or (signalled and status["state"] in ("stopped", "cancelled")):
        return 0
    print(status["message"], file=sys.stderr)
    return 0 if status["state"] == "stopped" else 1


def cmd_train_distributed(a) -> int:
    """--devices N: the run trains under torchrun (studio.distributed); rank 0 prints its events here. Ctrl-C stops
    it keeping the best model so far, twice without keeping one (through the run folder's stop file)."""
    import torch
    from .runs import Run
    config = build_config(a)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus and config.train.device in ("auto", "cuda") and config.train.devices > gpus:
        raise UserError(f"--devices {config.train.devices}: this computer has {gpus} GPU{'s' if gpus > 1 else ''}; "
                        f"ask for at most {gpus}, or add --device cpu to train on CPU processes.")
    run = Run.create(a.runs_dir, config)
    return _train_on_devices(run, config.train.devices, resume=False, as_json=a.json)


def _train_on_devices(run, devices: int, resume: bool, as_json: bool) -> int:
    """Train (or resume) the run under torchrun on `devices` processes and print what rank 0 reports."""
    import subprocess
    from . import distributed, runs
    command = distributed.launch_command(run.path, devices, resume=resume, echo=True)
    # A session of its own: Ctrl-C in this terminal reaches this process, which asks the run to stop.
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True, env=os.environ.copy())
    presses = 0
    while True:
        try:
            for line in child.stdout:
                _echo_line(line, as_json)
            child.wait()
            break
        except KeyboardInterrupt:
            presses += 1
            print("Stopping after this step and keeping the best model so far; press Ctrl-C again to stop without "
                  "keeping it." if presses == 1 else "Stopping without keeping a model.", file=sys.stderr, flush=True)
            run.request_stop(keep=presses == 1)
    (run.path / runs.STOP_FILE).unlink(missing_ok=True)
    status = run.status()
    if status.get("state") in (None, "running", "queued"):
        run.set_status("failed", f"The training processes ended without finishing the run (exit code {child.returncode}).")
        status = run.status()
    return _report_end(run, status, as_json)


def _echo_line(line: str, as_json: bool) -> None:
    """A line from rank 0: an event (a JSON object) printed as `train` prints it, anything else passed on."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        print(line, end="", file=sys.stderr, flush=True)
    elif as_json:
        print(line, end="", flush=True)
    else:
        _print_event(event)


# --- resume ----------------------------------------------------------------------------------
def cmd_resume(a) -> int:
    """Continue a run from its last checkpoint with the progress lines of `train`; it ends with the predictions the
    run would have had without the interruption. Ctrl-C stops keeping the best model so far; twice, keeping none."""
    from . import checkpoints, jobs
    from .runs import Run
    path = Path(a.run_dir)
    if not (path / "config.json").is_file():
        raise UserError(f"{a.run_dir} is not a run folder (it has no config.json); give one of the folders in runs/.")
    run = Run(path)
    if run.state == "finished" and not checkpoints.can_resume(path):
        raise UserError(f"The run in {a.run_dir} has already finished; there is nothing to resume.")
    if not checkpoints.can_resume(path):
        raise UserError(f"The run in {a.run_dir} left no checkpoint to continue from; start it again with "
                        "python -m studio train.")
    devices = run.config().train.devices
    if devices > 1:
        return _train_on_devices(run, devices, resume=True, as_json=a.json)
    echo = (lambda e: print(json.dumps(e, ensure_ascii=False), flush=True)) if a.json else _print_event
    with jobs.stop_on_signals(run.path, say=lambda sentence: print(sentence, file=sys.stderr, flush=True)):
        status = jobs.execute(run, echo=echo, resume=True)
    return _report_end(run, status, a.json)


def _report_end(run, status: dict, as_json: bool) -> int:
    """The run folder and its test result, as `train` prints them; exit 0 when a model was saved."""
    metrics = run.metrics()
    if as_json:
        print(json.dumps({"type": "result", "run_dir": str(run.path), "state": status["state"],
                          "message": status["message"], "metrics": _headline(metrics),
                          "stopped_by_user": bool((metrics or {}).get("stopped_by_user"))}, ensure_ascii=False))
    else:
        print(f"Run folder: {run.path}")
        if metrics and (metrics or {}).get("stopped_by_user"):
            print(f"Stopped by the user; kept the best model so far (step {metrics['best_step']}).")
        if metrics:
            _print_result(metrics)
    if status["state"] in ("finished", "stopped"):
        return 0
    print(status["message"], file=sys.stderr)
    return 1


def _print_result(metrics: dict) -> None:
    """The test accuracy, the warning when that number is misleading, then the rest in plain words."""
    from .metrics import summarize, warning_text
    print(f"Test accuracy {metrics['accuracy']:.2%}, macro-F1 {metrics['macro_f1']:.3f}, "
          f"weighted-F1 {metrics['weighted_f1']:.3f} on {metrics['examples']:,} examples.")
    warning = warning_text(metrics)
    if warning:
        print(warning)
    print(summarize(metrics, with_warning=False))


def _headline(metrics: dict | None) -> dict | None:
    if not metrics:
        return None
    keys = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_f1", "examples",
            "train_seconds", "train_samples_per_s", "best_validation_macro_f1")
    return {k: metrics[k] for k in keys if k in metrics}


# --- predict ---------------------------------------------------------------------------------
def cmd_predict(a) -> int:
    from .inference import load_classifier
    folder = Path(a.run_dir)
    model_dir = folder / "model" if (folder / "model").is_dir() else folder
    if not (model_dir / "config.json").exists():
        raise UserError(f"{a.run_dir} holds no trained model; give a finished run's folder, e.g. runs/<id>.")
    classifier = load_classifier(model_dir, backend=a.backend)
    if a.file:
        if not a.out:
            raise UserError("Say where to write the classified table with --out OUT.csv.")
        try:
            result = classifier.classify_file(a.file, a.out, a.text_column)
        except OSError as err:
            raise UserError(f"Cannot write {a.out} ({err.strerror or err}); choose another --out.") from None
        print(json.dumps(result, ensure_ascii=False) if a.json else
              f"Classified {result['rows']:,} rows of column {result['text_column']!r} into {result['path']}.")
        return 0
    if not a.texts:
        raise UserError("Give one or more texts to classify, or --file with --out.")
    for text, pred in zip(a.texts, classifier.predict(a.texts)):
        if a.json:
            print(json.dumps({"text": text, **pred.to_dict()}, ensure_ascii=False))
        else:
            print(f"{pred.label}\t{pred.confidence:.3f}\t{text}")
    return 0


def cmd_runs(a) -> int:
    from .runs import list_runs
    rows = [run.summary() for run in list_runs(a.runs_dir)]
    if a.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        acc = f"{r['test_accuracy']:.1%}" if r["test_accuracy"] is not None else "-"
        print(f"{r['id']}  {r['state']:<11} {acc:>6}  {r['model']}  {r['method']}  {r['data']}")
        if r["warnings"] or r["state"] in ("failed", "interrupted"):
            print(f"    {r['message']}")
    if not rows:
        print(f"No runs in {a.runs_dir}.")
    return 0


AVAILABILITY_WORDS = {"bundled": "ships with the studio", "folder": "folder on this machine",
                      "cached": "downloaded before, on this machine", "hub": "downloads from the hub when used",
                      "offline": "not on this machine and the hub cannot be reached",
                      "missing_folder": "no such folder", "not_a_model": "not a usable model folder"}


def cmd_models(a) -> int:
    """The catalog (and --model names): where each loads from right now; with a file, the [UNK] share per model."""
    from . import data, models
    texts = []
    if a.file:
        report = data.inspect(a.file, a.text_column)
        if report.text_column:
            texts = [str(t) for t in data.read_table(a.file).frame[report.text_column].dropna().head(200)]
    rows = []
    for name in [e.key for e in models.CATALOG] + list(a.model or []):
        found = models.availability(name)
        share = None
        if found.usable and texts:
            try:
                share = models.unknown_share(models.load_tokenizer(name), texts)
            except models.ModelError:
                share = None
        rows.append({"model": name, "state": found.state, "usable": found.usable, "unknown_share": share,
                     "reads_the_data": None if not texts or not found.usable else
                     (share is None or share < models.UNREADABLE_SHARE)})
    if a.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        mark = "ok" if r["usable"] else "--"
        reads = ""
        if r["unknown_share"] is not None:
            reads = f"  [UNK] {r['unknown_share']:.0%}{'' if r['reads_the_data'] else ': cannot read this data'}"
        print(f"{mark}  {r['model']:<32} {AVAILABILITY_WORDS[r['state']]}{reads}")
    if texts and not any(r["reads_the_data"] for r in rows):
        print("No usable model reads this data: connect to the internet once and pick a model for its language "
              "(e.g. bert-base-chinese), or pass a model folder you have with --model.")
    return 0


# --- export, compare, push ------------------------------------------------------------------
def cmd_export(a) -> int:
    from .export import export_onnx
    result = export_onnx(a.run_dir, int8=a.int8)
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"Wrote {result['onnx']} ({result['onnx_mb']} MB) in {result['seconds']} s; its probabilities match "
          f"PyTorch's within {result['max_difference']:.1e}.")
    if a.int8:
        print(f"Wrote {result['int8']} ({result['int8_mb']} MB, int8 weights).")
    print(f"Predictions now use it: python -m studio predict {a.run_dir} \"TEXT\" "
          f"(--backend {'onnx-int8' if a.int8 else 'onnx'} to choose).")
    return 0


def cmd_compare(a) -> int:
    from . import compare
    from .runs import Run, get_run
    try:
        runs = [Run(Path(r)) if (Path(r) / "config.json").exists() else get_run(a.runs_dir, r) for r in a.run_dirs]
    except KeyError as err:
        raise UserError(f"{str(err).strip(chr(34) + chr(39))} Give run folders, e.g. runs/<id>.") from None
    if len(runs) < 2:
        raise UserError("Give two or more runs to compare.")
    result = compare.compare(runs)
    print(json.dumps(result, ensure_ascii=False, indent=2) if a.json else compare.report(result, examples=a.examples))
    return 0


def cmd_push(a) -> int:
    from . import hub
    try:
        url = hub.push(a.run_dir, a.repo, token=a.token, private=not a.public)
    except hub.HubError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Uploaded the model and its card to {url}")
    return 0


def web(command: str, argv: list[str]) -> int:
    """`serve` and `demo`: the web apps, with their own options and messages."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if command == "demo":
        from .ui.demo import main as demo_main
        return demo_main(argv)
    from .ui.app import main as studio_main
    return studio_main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("serve", "demo"):
        return web(argv[0], argv[1:])
    from .data import DataError
    from .export import ExportError
    from .inference import InferenceError
    from .models import ModelError
    commands = {"inspect": cmd_inspect, "train": cmd_train, "predict": cmd_predict, "runs": cmd_runs,
                "resume": cmd_resume, "models": cmd_models,
                "export": cmd_export, "compare": cmd_compare, "push": cmd_push}
    try:
        a = _parser().parse_args(argv)
        return commands[a.command](a)
    except (UserError, DataError, ModelError, ConfigError, InferenceError, ExportError) as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # a disk that refuses a write (full, read-only): one sentence, not a traceback
        from .runs import write_failure
        sentence = write_failure(err, Path(err.filename).parent if err.filename else "the runs folder")
        if sentence is None:
            raise
        print(sentence, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
