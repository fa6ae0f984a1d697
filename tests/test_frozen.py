"""The frozen-layer surgery: outputs of the bottom layers computed once, the rest of the model run on them."""
import contextlib

import torch
from transformers import BertConfig, BertForSequenceClassification

from studio import frozen, models
from studio.batches import Packed, pad_batch


def tiny_classifier():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=200, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=3)
    return BertForSequenceClassification(config).eval()


ROWS = [[1, 15, 30, 2], [1, 40, 2], [1, 7, 8, 9, 10, 11, 2]]
CPU = torch.device("cpu")


def test_the_model_above_cached_layers_gives_the_whole_models_logits():
    model = tiny_classifier()
    ids, mask = pad_batch(ROWS, 0, CPU)
    with torch.no_grad():
        whole = model(input_ids=ids, attention_mask=mask).logits
    for k in (0, 1, 3):
        cached = Packed(frozen.frozen_outputs(model, k, ROWS, 0, CPU, 2, CPU, contextlib.nullcontext), CPU, torch.float32)
        hidden, hidden_mask = cached.gather(torch.arange(3), ids.shape[1])
        with torch.no_grad(), frozen.skip_frozen(model, k):
            above = model(inputs_embeds=hidden, attention_mask=hidden_mask).logits
        assert torch.allclose(above, whole, atol=1e-5), k


def test_the_surgery_is_undone_on_leaving_and_on_errors():
    model = tiny_classifier()
    layers, embeddings = models.layers_of(model), model.bert.embeddings
    try:
        with frozen.skip_frozen(model, 2):
            assert len(models.layers_of(model)) == 1 and model.bert.embeddings is not embeddings
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert models.layers_of(model) is layers and model.bert.embeddings is embeddings
    with frozen.only_bottom(model, 1):
        assert len(models.layers_of(model)) == 1
    assert models.layers_of(model) is layers


def test_frozen_depth_and_dropout():
    model = tiny_classifier().train()
    assert frozen.frozen_depth(model, "full", 2) == 0
    assert frozen.frozen_depth(model, "freeze", 2) == 2 and frozen.frozen_depth(model, "freeze", -1) == 3
    frozen.freeze_dropout(model, "freeze", 2, cached=False)
    layers = models.layers_of(model)
    assert not model.bert.embeddings.training and not layers[1].training and layers[2].training
