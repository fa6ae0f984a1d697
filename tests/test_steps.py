import contextlib
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from transformers import BertConfig, BertForSequenceClassification

from studio import steps
from studio.batches import Packed


def tiny_classifier(seed: int = 0, dropout: float = 0.1) -> nn.Module:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=200, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=3,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    return BertForSequenceClassification(config)


def toy_split(device, rows: int = 48, seed: int = 0):
    """Token rows whose label is decided by the first word, packed on the device; make_batch as training uses it."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, rows)
    ids = [[1, 10 + int(y)] + list(rng.integers(20, 200, rng.integers(2, 12))) + [2] for y in labels]
    packed = Packed(ids, device)
    labels_t = torch.as_tensor(labels, device=device)
    def make_batch(index, width):
        tokens, mask = packed.gather(index, width)
        return {"input_ids": tokens, "attention_mask": mask}, labels_t[index]
    return packed, make_batch


def test_warmup_then_linear_rises_then_falls_to_zero():
    factor = steps.warmup_then_linear(4, 20)
    assert [factor(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert factor(12) == pytest.approx(0.5)
    assert factor(20) == 0.0


def test_set_learning_rate_handles_floats_and_tensors():
    p = nn.Parameter(torch.zeros(2))
    plain = torch.optim.AdamW([p], lr=1e-3)
    tensor = torch.optim.AdamW([p], lr=torch.tensor(1e-3))
    steps.set_learning_rate(plain, 5e-4)
    steps.set_learning_rate(tensor, 5e-4)
    assert plain.param_groups[0]["lr"] == 5e-4
    assert isinstance(tensor.param_groups[0]["lr"], torch.Tensor)
    assert tensor.param_groups[0]["lr"].item() == pytest.approx(5e-4)


def test_optimizer_skips_weight_decay_on_biases_and_norms():
    model = tiny_classifier()
    opt = steps.optimizer_for(model, 1e-4, 0.01, torch.device("cpu"), capturable=True)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(p.ndim < 2 for p in no_decay["params"])
    assert isinstance(decay["lr"], float)  # capturable only means something on CUDA


def test_stepper_learns_and_reports_the_mean_loss():
    cpu = torch.device("cpu")
    model = tiny_classifier(dropout=0.0).train()
    packed, make_batch = toy_split(cpu)
    opt = steps.optimizer_for(model, 3e-3, 0.0, cpu)
    stepper = steps.Stepper(model, opt, nn.CrossEntropyLoss(), make_batch, 16, cpu, contextlib.nullcontext, use_graphs=True)
    assert not stepper.use_graphs  # graphs are a CUDA matter
    rng = np.random.default_rng(0)
    losses = []
    for epoch in range(12):
        order = rng.permutation(len(packed))
        for start in range(0, len(order), 16):
            index = order[start:start + 16]
            stepper.step(torch.as_tensor(index), packed.width_of(index))
        losses.append(stepper.read_loss())
    assert stepper.count == 0 and stepper.loss_sum.item() == 0
    assert losses[-1] < losses[0] * 0.5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need an NVIDIA GPU")
def test_graphed_steps_match_eager_steps():
    cuda = torch.device("cuda")
    packed, make_batch = toy_split(cuda, rows=64)
    autocast = steps.bf16_autocast
    finals = {}
    for graphs in (False, True):
        model = tiny_classifier(dropout=0.0).to(cuda).train()
        opt = steps.optimizer_for(model, 1e-3, 0.01, cuda, capturable=True)
        stepper = steps.Stepper(model, opt, nn.CrossEntropyLoss(), make_batch, 16, cuda, autocast, graphs)
        factor = steps.warmup_then_linear(3, 24)
        rng = np.random.default_rng(0)
        for step in range(24):
            index = rng.permutation(64)[:16] if step % 6 else rng.permutation(64)[:10]  # some partial batches
            steps.set_learning_rate(opt, 1e-3 * factor(step))
            stepper.step(torch.as_tensor(index, device=cuda), 16)
        finals[graphs] = ([p.detach().float().cpu() for p in model.parameters()], stepper.read_loss(),
                          len(stepper.graphs))
    (eager, eager_loss, _), (graphed, graphed_loss, captured) = finals[False], finals[True]
    assert captured == 1
    assert graphed_loss == pytest.approx(eager_loss, rel=1e-3)
    for a, b in zip(eager, graphed):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need an NVIDIA GPU")
def test_rare_widths_stay_eager():
    cuda = torch.device("cuda")
    packed, make_batch = toy_split(cuda, rows=64)
    model = tiny_classifier().to(cuda).train()
    opt = steps.optimizer_for(model, 1e-3, 0.01, cuda, capturable=True)
    stepper = steps.Stepper(model, opt, nn.CrossEntropyLoss(), make_batch, 16, cuda, contextlib.nullcontext, True)
    stepper.expect({16: 40, 24: steps.MIN_USES_FOR_A_GRAPH - 1})
    for width in (16, 24) * 3:
        stepper.step(torch.arange(16, device=cuda), width)
    assert set(stepper.graphs) == {16}


@pytest.mark.parametrize("capability, expected", [((7, 0), "fp16"), ((7, 5), "fp16"), ((8, 0), "bf16"),
                                                  ((8, 6), "bf16"), ((9, 0), "bf16")])
def test_native_bf16_only_from_compute_capability_8(capability, expected):
    # V100 (7.0) and T4 (7.5) only emulate bf16: they get fp16 with a gradient scaler; A100 (8.0) and later bf16.
    assert steps.precision_for(torch.device("cuda"), capability) == expected
    assert steps.precision_for(torch.device("cpu"), capability) == "fp32"


def test_each_precision_gets_its_autocast_and_only_fp16_a_scaler():
    assert steps.autocast_for("fp32") is contextlib.nullcontext
    assert steps.autocast_for("bf16") is steps.bf16_autocast and steps.autocast_for("fp16") is steps.fp16_autocast
    assert steps.gradient_scaler_for("bf16", torch.device("cuda")) is None
    assert steps.gradient_scaler_for("fp32", torch.device("cpu")) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without a GPU the scaler says it is disabled
        assert isinstance(steps.gradient_scaler_for("fp16", torch.device("cuda")), torch.amp.GradScaler)


def test_a_scaled_step_takes_the_scaled_gradient():
    # Half the loss, half the gradient: what a process's share of a batch split over two contributes.
    cpu = torch.device("cpu")
    packed, make_batch = toy_split(cpu, rows=16)
    grads = {}
    for scale in (1.0, 0.5):
        model = tiny_classifier(dropout=0.0).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        stepper = steps.Stepper(model, opt, nn.CrossEntropyLoss(), make_batch, 16, cpu, contextlib.nullcontext, False)
        stepper.optimizer.zero_grad = lambda set_to_none=True: None  # keep the gradient to look at it
        stepper.step(torch.arange(16), packed.width_of(np.arange(16)), scale)
        grads[scale] = model.classifier.weight.grad.clone()
    assert torch.allclose(grads[0.5], grads[1.0] / 2, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 autocast needs a GPU")
def test_fp16_steps_with_a_scaler_learn():
    cuda = torch.device("cuda")
    model = tiny_classifier(dropout=0.0).to(cuda).train()
    packed, make_batch = toy_split(cuda)
    opt = steps.optimizer_for(model, 3e-3, 0.0, cuda)
    stepper = steps.Stepper(model, opt, nn.CrossEntropyLoss(), make_batch, 16, cuda, steps.fp16_autocast, True,
                            steps.gradient_scaler_for("fp16", cuda))
    assert not stepper.use_graphs
    rng = np.random.default_rng(0)
    losses = []
    for epoch in range(12):
        order = rng.permutation(len(packed))
        for start in range(0, len(order), 16):
            index = order[start:start + 16]
            stepper.step(torch.as_tensor(index, device=cuda), packed.width_of(index))
        losses.append(stepper.read_loss())
    assert losses[-1] < losses[0] * 0.5
