import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_train_then_predict_end_to_end(sentiment_csv, tiny_model_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    done = run_cli("train", sentiment_csv, "--model", tiny_model_dir, "--method", "full", "--epochs", 1,
                   "--batch-size", 8, "--runs-dir", runs_dir, "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["type"] == "started" and any(e["type"] == "step" for e in lines)
    result = lines[-1]
    assert result["type"] == "result" and result["state"] == "finished"
    run_dir = Path(result["run_dir"])
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert result["metrics"]["accuracy"] == saved["accuracy"] and result["metrics"]["examples"] == saved["examples"]
    assert (run_dir / "model" / "model.safetensors").exists()
    assert json.loads((run_dir / "config.json").read_text())["model"]["method"] == "full"

    pred = run_cli("predict", run_dir, "great product", "terrible", "--json")
    assert pred.returncode == 0, pred.stderr
    answers = [json.loads(line) for line in pred.stdout.splitlines()]
    assert [a["text"] for a in answers] == ["great product", "terrible"]
    assert all(a["label"] in {"positive", "negative"} for a in answers)

    out = tmp_path / "classified.csv"
    table = run_cli("predict", run_dir, "--file", sentiment_csv, "--out", out)
    assert table.returncode == 0, table.stderr
    assert out.read_text(encoding="utf-8-sig").splitlines()[0] == "review,sentiment,predicted_label,confidence"

    listed = run_cli("runs", "--runs-dir", runs_dir, "--json")
    assert json.loads(listed.stdout)[0]["id"] == run_dir.name


def test_train_prints_the_warning_after_the_test_accuracy(one_text_csv, tiny_model_dir, tmp_path, capsys):
    """One text repeated, so the model answers one label for all: the CLI must say so, in words and in --json."""
    runs_dir = tmp_path / "runs"
    args = ["train", str(one_text_csv), "--model", str(tiny_model_dir), "--freeze", "all", "--epochs", "1",
            "--batch-size", "8", "--max-length", "32", "--runs-dir", str(runs_dir)]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Test accuracy"))
    warning = lines[at + 1]
    assert warning.startswith("Warning:") and "for every text and never predicts" in warning
    assert "class weights" in warning
    summary = lines[at + 2]
    assert summary.startswith("On 15 test examples") and 'always answering "ham" would be right' in summary

    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    listed = capsys.readouterr().out
    assert warning in listed

    assert main(args + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    codes = [w["code"] for w in result["warnings"]]
    assert result["type"] == "result" and "single_label" in codes and "never_predicts" in codes
    assert result["baseline"]["label"] == "ham" and warning in result["message"]


def test_inspect_json_report(sentiment_csv, capsys):
    assert main(["inspect", str(sentiment_csv), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 64 and report["text_column"] == "review" and report["label_column"] == "sentiment"
    assert report["label_counts"] == {"positive": 32, "negative": 32}
    assert {"rows", "columns", "encoding", "delimiter", "findings"} <= report.keys()


@pytest.mark.parametrize("argv, fragment", [
    (["inspect", "/no/such/file.csv"], "file"),
    (["train", "/no/such/file.csv"], "no file"),
    (["train", "x.csv", "--freeze", "2", "--lora", "4"], "not allowed"),
    (["train", "x.csv", "--freeze", "2", "--method", "lora"], "cannot go with --method lora"),
    (["train", "x.csv", "--lora", "4", "--method", "full"], "cannot go with --method full"),
    (["train", "x.csv", "--method", "head"], "invalid choice"),
    (["train", "x.csv", "--device", "tpu"], "unknown device"),
    (["train", "x.csv", "--device", "gpu"], "unknown device"),
    (["train", "x.csv", "--freeze", "some"], "--freeze"),
    (["train", "x.csv", "--freeze", "-3"], "--freeze takes a number of layers or 'all'"),
    (["train", "x.csv", "--lr", "abc"], "invalid float value"),
    (["train", "x.csv", "--lr", "2"], "Learning rate 2.0 is out of range"),
    (["train", "x.csv", "--epochs", "-1"], "epochs must be above 0"),
    (["train", "x.csv", "--batch-size", "0"], "Batch size must be at least 1"),
    (["train", "x.csv", "--batch-size", "8.5"], "invalid int value"),
    (["train", "x.csv", "--max-length", "4"], "Max length 4 is out of range"),
    (["train", "x.csv", "--patience", "-1"], "patience cannot be negative"),
    (["train", "x.csv", "--max-rows", "5"], "raise --max-rows"),
    (["train", "x.csv", "--lora", "0"], "LoRA rank must be at least 1"),
    (["train", "x.csv", "--seed", "-1"], "The seed must be a whole number"),
    (["train", "x.csv", "--model", "/no/such/model"], "neither a model folder"),
    (["train", "x.csv", "--test-file", "/no/such/test.csv"], "There is no file /no/such/test.csv"),
    (["train", "x.csv", "--unknown-flag"], "unrecognized arguments"),
    (["train"], "the following arguments are required: file"),
    (["inspect", "x.csv", "--max-length", "0"], "Max length 0 is out of range"),
    (["predict", "/tmp", "--file", "x.csv"], "no trained model"),
    (["train", "x.csv", "--preset", "turbo"], "preset"),
    (["predict", "/tmp"], "no trained model"),
    (["bogus"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_sentence(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("text,label\na,b\n")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert fragment.lower() in err.lower() and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("build_cuda, gpus, device, fragment", [
    (None, 0, "cuda", "built for the CPU only"), (None, 0, "cuda:0", "built for the CPU only"),
    ("12.8", 0, "cuda", "sees no CUDA GPU"), ("12.8", 1, "cuda:1", "no GPU number 1"),
])
def test_a_gpu_this_torch_cannot_use_exits_2_with_one_sentence(build_cuda, gpus, device, fragment, capsys, tmp_path,
                                                                monkeypatch):
    import torch
    monkeypatch.setattr(torch.version, "cuda", build_cuda)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    (tmp_path / "x.csv").write_text("text,label\na,b\nc,d\n")
    code = main(["train", str(tmp_path / "x.csv"), "--device", device, "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()   # refused before a run folder was made


def _write(path, text: str | bytes):
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


ENOUGH = "text,label,split\n" + "".join(f"row number {i},{'ab'[i % 2]},{('train', 'test')[i % 5 == 0]}\n"
                                        for i in range(60))


@pytest.mark.parametrize("content, options, fragment", [
    (b"\x00\x01\x02garbage\xff\xfe", [], ""),   # whatever the reader makes of it: one sentence
    (ENOUGH, ["--encoding", "nonsense"], "not an encoding name"),
    (ENOUGH, ["--text-column", "nope"], "no column 'nope'"),
    (ENOUGH, ["--split-column", "nope"], "no column called 'nope' to split by"),
    ("text,label\nthe first,x\nthe second,y\n", [], "nothing is left over"),
    ("".join(f"sentence {i},same\n" for i in range(30)), [], ""),
])
def test_data_that_cannot_be_used_exits_2_before_a_run_folder_is_made(content, options, fragment, tmp_path,
                                                                      tiny_model_dir, capsys):
    path = _write(tmp_path / "data.csv", content)
    code = main(["train", str(path), "--model", str(tiny_model_dir), "--runs-dir", str(tmp_path / "runs"), *options])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "runs").exists()


def test_a_runs_folder_that_cannot_be_made_exits_2(tmp_path, tiny_model_dir, capsys):
    path = _write(tmp_path / "data.csv", ENOUGH)
    blocker = _write(tmp_path / "a-file", "not a folder")
    code = main(["train", str(path), "--model", str(tiny_model_dir), "--runs-dir", str(blocker / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "Cannot make a run folder" in err and "--runs-dir" in err and len(err.strip().splitlines()) == 1


def test_predict_options_that_cannot_work_exit_2(tiny_run_dir, tmp_path, capsys):
    table = _write(tmp_path / "in.csv", "comment\ngreat\n")
    for argv, fragment in [(["--file", str(table), "--out", str(tmp_path / "no-folder" / "out.csv")], "Cannot write"),
                           (["--file", str(table), "--out", str(tmp_path / "o.csv"), "--text-column", "nope"],
                            "no column"),
                           (["--file", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")], "missing.csv"),
                           (["--file", str(table)], "--out"), ([], "Give one or more texts")]:
        code = main(["predict", str(tiny_run_dir), *argv])
        err = capsys.readouterr().err
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_bad_input_exit_code_from_a_real_process(tmp_path):
    done = run_cli("train", tmp_path / "missing.csv")
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.strip()


def _recorded_method(argv, tmp_path, monkeypatch) -> dict:
    """config.json of a `train` run whose training is replaced by an immediate finish."""
    from studio import jobs
    monkeypatch.setattr(jobs, "execute", lambda run, echo=None: run.set_status("finished", "ok"))
    (tmp_path / "x.csv").write_text(ENOUGH)   # read and split before the run folder is made
    assert main(["train", str(tmp_path / "x.csv"), "--runs-dir", str(tmp_path / "runs"), *argv]) == 0
    (config,) = (tmp_path / "runs").glob("*/config.json")
    return json.loads(config.read_text())["model"]


@pytest.mark.parametrize("argv, method", [([], "auto"), (["--method", "auto"], "auto"), (["--method", "full"], "full"),
                                          (["--lora", "4"], "lora"), (["--freeze", "all", "--method", "freeze"],
                                                                      "freeze")])
def test_the_method_lands_in_config_json(argv, method, tmp_path, monkeypatch):
    assert _recorded_method(argv, tmp_path, monkeypatch)["method"] == method


def test_method_freeze_alone_freezes_half_the_layers(tmp_path, monkeypatch):
    model = _recorded_method(["--method", "freeze"], tmp_path, monkeypatch)  # the bundled model: 6 layers
    assert (model["method"], model["freeze_layers"]) == ("freeze", 3)


def test_resume_continues_a_crashed_run_and_refuses_what_it_cannot(sentiment_csv, tiny_model_dir, tmp_path, capsys):
    from studio import checkpoints, jobs
    from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from studio.runs import Run
    config = RunConfig(data=DataConfig(train_file=str(sentiment_csv)), model=ModelConfig(name=str(tiny_model_dir),
                       method="full"), train=TrainConfig(epochs=2, batch_size=8, patience=0, max_length=32))
    run = Run.create(tmp_path / "runs", config)

    def crash_after_an_evaluation():
        if any(e["type"] == "eval" and e["step"] > 0 for e in run.events()[0]):
            raise RuntimeError("the machine went down")
        return False
    assert jobs.execute(run, crash_after_an_evaluation)["state"] == "failed"
    assert checkpoints.can_resume(run.path) and not run.model_dir.exists()

    assert main(["resume", str(run.path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    started = next(e for e in lines if e["type"] == "started")
    assert started["resumed_from_step"] > 0
    assert lines[-1]["type"] == "result" and lines[-1]["state"] == "finished"
    assert (run.model_dir / "model.safetensors").exists() and not checkpoints.can_resume(run.path)

    assert main(["resume", str(run.path)]) == 2
    assert "already finished" in capsys.readouterr().err
    assert main(["resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_ctrl_c_in_the_foreground_keeps_the_best_then_discards(tmp_path):
    """train and resume stop through jobs.stop_on_signals: the first Ctrl-C asks for "keep", the second "discard"."""
    import os
    import signal
    from studio import jobs
    from studio.config import DataConfig, RunConfig
    from studio.runs import Run
    run = Run.create(tmp_path / "runs", RunConfig(data=DataConfig(train_file="x.csv")))
    said = []
    before = signal.getsignal(signal.SIGINT)
    with jobs.stop_on_signals(run.path, say=said.append):
        should_stop = jobs.StopCheck(run)
        assert should_stop() is None
        os.kill(os.getpid(), signal.SIGINT)
        assert should_stop() == "keep" and run.stop_requested() == "keep"
        os.kill(os.getpid(), signal.SIGINT)
        assert should_stop() == "discard" and run.stop_requested() == "discard"
    assert "keeping the best model so far" in said[0] and "without keeping" in said[1]
    assert signal.getsignal(signal.SIGINT) is before


def test_devices_below_one_is_refused_in_a_sentence(sentiment_csv, tiny_model_dir, tmp_path, capsys):
    assert main(["train", str(sentiment_csv), "--model", str(tiny_model_dir), "--devices", "0",
                 "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "at least 1 device" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
