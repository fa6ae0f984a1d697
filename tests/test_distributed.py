"""Training on several processes (torchrun, gloo on CPUs): one run folder, the result of one process."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio import distributed

ROOT = Path(__file__).resolve().parents[1]


def test_launch_command_runs_torchrun_on_the_run_folder(tmp_path):
    command = distributed.launch_command(tmp_path, 4)
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--nproc_per_node=4" in command and "--standalone" in command
    at = command.index("studio.distributed")
    assert command[at - 1] == "-m" and command[at + 1] == str(tmp_path) and "--resume" not in command
    assert distributed.launch_command(tmp_path, 2, resume=True)[-1] == "--resume"


def test_one_process_takes_every_row_with_its_whole_loss():
    index = np.array([5, 2, 7])
    rows, scale = distributed.share_of(index)
    assert rows.tolist() == [5, 2, 7] and scale == 1.0
    assert distributed.world_size() == 1 and distributed.is_main() and distributed.agree(2) == 2
    assert distributed.gather("x") == ["x"]


@pytest.fixture(scope="module")
def tiny_model_without_dropout(tmp_path_factory):
    """Dropout would draw different masks on two processes than on one; without it the two must agree."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel
    from studio.models import bundled_model_path
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert-no-dropout")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def train_cli(csv, model, runs_dir, *extra):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "studio", "train", str(csv), "--model", str(model), "--method", "full",
                           "--epochs", "2", "--batch-size", "8", "--lr", "5e-3", "--patience", "0", "--max-length", "32",
                           "--runs-dir", str(runs_dir), "--json", *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return events, Path(events[-1]["run_dir"])


@pytest.mark.slow
def test_two_cpu_processes_match_one_with_the_same_global_batch(sentiment_csv, tiny_model_without_dropout, tmp_path):
    one, one_dir = train_cli(sentiment_csv, tiny_model_without_dropout, tmp_path / "one")
    two, two_dir = train_cli(sentiment_csv, tiny_model_without_dropout, tmp_path / "two", "--devices", "2")
    assert [p.name for p in (tmp_path / "two").iterdir()] == [two_dir.name]  # one run folder
    started = next(e for e in two if e["type"] == "started")
    assert started["devices"] == 2 and started["total_steps"] == next(e for e in one if e["type"] == "started")["total_steps"]
    assert two[-1]["state"] == "finished" and not (two_dir / "checkpoints").exists()
    evals = lambda events: [(e["step"], e["loss"], e["accuracy"]) for e in events if e["type"] == "eval"]
    assert [e[0] for e in evals(two)] == [e[0] for e in evals(one)]
    assert [e[2] for e in evals(two)] == [e[2] for e in evals(one)]
    assert [e[1] for e in evals(two)] == pytest.approx([e[1] for e in evals(one)], rel=1e-3, abs=1e-4)
    read = lambda folder: [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    for a, b in zip(read(one_dir), read(two_dir), strict=True):
        assert (a["text"], a["predicted"]) == (b["text"], b["predicted"])
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-3)
    # the model learned something, so the agreement is not that of two untrained models
    losses = [e[1] for e in evals(one)]
    assert min(losses[1:]) < losses[0]
