"""The page and the command line build the same run from the same choices: presets by model size, method and device.

The page is driven through the app's own event handlers (the ones the browser calls), with the change events
their outputs fire in turn; the Start button's handler builds the config, and the job manager's submit is
replaced so that nothing trains.
"""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from conftest import write_reviews_csv
from studio import __main__ as cli
from studio import models
from studio.presets import PRESETS
from studio.ui import app as studio_app
from studio.ui import data_tab

MINILM = models.DEFAULT_MODEL   # 6 layers, 384 wide: "freeze 2" leaves layers to train, "freeze all" does not
MINILM_LAYERS = 6
# method case: (the page's method, freeze depth or LoRA rank set on the page, the command line's options)
METHOD_CASES = {
    "auto": ("auto", None, ["--method", "auto"]),
    "full": ("full", None, ["--method", "full"]),
    "freeze 2": ("freeze", 2, ["--freeze", "2"]),
    "freeze all": ("freeze", MINILM_LAYERS, ["--freeze", "all"]),
    "lora 8": ("lora", 8, ["--lora", "8"]),
}


class Page:
    """One browser page of an app: a value per component, and the app's handlers run for what a user does."""

    def __init__(self, app: gr.Blocks) -> None:
        self.app = app
        self.values = {block._id: getattr(block, "value", None) for block in app.blocks.values()}
        self.visible = {block._id: getattr(block, "visible", True) for block in app.blocks.values()}
        self.submitted = []
        app.studio.manager.submit = self._submit

    def _submit(self, config):
        self.submitted.append(config.validate())
        return SimpleNamespace(id=f"run-{len(self.submitted)}")

    def value(self, component):
        return self.values[component._id]

    def load(self, component, value) -> None:
        """A value that was there before the page's events ran (data loaded earlier)."""
        self.values[component._id] = value

    def user_sets(self, component, value) -> None:
        self.values[component._id] = value
        for event in ("input", "change", "release"):
            self.fire(component, event)

    def click(self, button) -> None:
        self.fire(button, "click")

    def fire(self, block, event: str, depth: int = 0) -> None:
        assert depth < 10, "change events keep firing each other"
        for fn in self.app.fns.values():
            if fn.fn is None or (block._id, event) not in fn.targets:
                continue
            out = fn.fn(*(self._input(c) for c in fn.inputs))
            outs = (out,) if len(fn.outputs) == 1 else (out or ())
            changed = [c for c, v in zip(fn.outputs, outs) if self._output(c, v)]
            for component in changed:
                self.fire(component, "change", depth + 1)

    def _input(self, component):
        value = self.values[component._id]
        if isinstance(component, (gr.State, gr.Dropdown)):
            return value  # a dropdown's choices are set by handlers this page does not track: its value as it is
        return component.preprocess(component.postprocess(value))  # as the value travels to the page and back

    def _output(self, component, value) -> bool:
        """Apply one output; whether the component's value changed."""
        if isinstance(value, gr.blocks.Block):
            return False  # a component returned to relabel a tab
        if isinstance(value, dict) and value.get("__type__") == "update":
            if "visible" in value:
                self.visible[component._id] = value["visible"]
            if "value" not in value:
                return False
            value = value["value"]
        if _same(self.values[component._id], value):
            return False
        self.values[component._id] = value
        return True


def _same(old, new) -> bool:
    try:
        return bool(old == new)
    except (TypeError, ValueError):  # tables and figures do not compare to one truth value
        return old is new


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity-data") / "reviews.csv"
    return write_reviews_csv(path)


@pytest.fixture(scope="module")
def view(reviews):
    return data_tab.analyse(str(reviews), model_name=MINILM)


@pytest.fixture(scope="module", params=["cpu", "cuda"])
def app(request, tmp_path_factory):
    return studio_app.build_app(str(tmp_path_factory.mktemp(f"runs-{request.param}")), default_model=MINILM,
                                device_type=request.param)


def page_config(app, view, preset, method, setting=None):
    """What the Start button submits after a user picks the preset, then the method (and its setting)."""
    model, train = app.tabs["model"], app.tabs["train"]
    page = Page(app)
    page.load(app.tabs["data"].state, view)
    page.user_sets(model.preset, preset)
    page.user_sets(model.method, method)
    if method == "freeze":
        page.user_sets(model.freeze_depth, setting)
    elif method == "lora":
        page.user_sets(model.lora_rank, setting)
    page.click(train.start)
    assert len(page.submitted) == 1, page.value(train.message)
    return page.submitted[0]


def cli_config(view, preset, options, device_type):
    argv = ["train", view["path"], "--text-column", "review", "--label-column", "sentiment", "--preset", preset,
            "--device", device_type, *options]
    with pytest.MonkeyPatch.context() as patch:
        if device_type == "cuda":  # the command line as on a GPU machine: this CPU build would refuse --device cuda
            patch.setattr(cli, "check_device", lambda device: None)
        return cli.build_config(cli._parser().parse_args(argv))


def without_name(config) -> dict:
    return {k: v for k, v in config.to_dict().items() if k != "name"}


@pytest.mark.parametrize("case", list(METHOD_CASES))
@pytest.mark.parametrize("preset", list(PRESETS))
def test_the_page_and_the_command_line_build_the_same_run(app, view, preset, case):
    method, setting, options = METHOD_CASES[case]
    device_type = app.studio.device_type
    from_page = page_config(app, view, preset, method, setting)
    from_cli = cli_config(view, preset, options, device_type)
    assert without_name(from_page) == without_name(from_cli)
    assert from_page.train.preset == preset and from_page.train.device == device_type
    assert from_page.model.method == method
    if case == "freeze all":
        assert from_page.model.freeze_layers == -1


def test_lora_and_head_only_take_bigger_steps_on_minilm(app, view):
    factor = 2 ** 0.5 if app.studio.device_type == "cuda" else 1.0  # batch 64 on a GPU: the rate grows by sqrt(2)
    for build in (lambda method, setting, options: page_config(app, view, "balanced", method, setting),
                  lambda method, setting, options: cli_config(view, "balanced", options, app.studio.device_type)):
        full, lora, head = (build(*METHOD_CASES[case]).train.learning_rate for case in ("full", "lora 8", "freeze all"))
        assert full == pytest.approx(1e-4 * factor)
        assert lora == pytest.approx(10 * full) and head == pytest.approx(50 * full)


def test_a_gpu_gets_batch_64_with_its_own_rate(app):
    model = app.tabs["model"]
    page = Page(app)
    cuda = app.studio.device_type == "cuda"
    assert page.value(model.batch_size) == (64 if cuda else 32)
    assert page.value(model.learning_rate) == pytest.approx(1e-4 * (2 ** 0.5 if cuda else 1))


def test_changing_the_method_applies_the_preset_again(app, view):
    model = app.tabs["model"]
    page = Page(app)
    page.load(app.tabs["data"].state, view)
    factor = 2 ** 0.5 if app.studio.device_type == "cuda" else 1.0
    assert page.value(model.method) == "auto"
    page.user_sets(model.learning_rate, 0.005)
    page.user_sets(model.method, "lora")
    assert page.value(model.learning_rate) == pytest.approx(1e-3 * factor)
    page.user_sets(model.method, "freeze")
    page.user_sets(model.freeze_depth, MINILM_LAYERS)   # every layer frozen: the head alone trains
    assert page.value(model.learning_rate) == pytest.approx(5e-3 * factor)
    page.user_sets(model.method, "full")
    assert page.value(model.learning_rate) == pytest.approx(1e-4 * factor)
    page.user_sets(model.preset, "quick")
    assert page.value(model.learning_rate) == pytest.approx(2e-4 * factor) and page.value(model.epochs) == 3


def test_values_typed_in_the_advanced_settings_are_what_the_run_uses(app, view):
    model, train = app.tabs["model"], app.tabs["train"]
    page = Page(app)
    page.load(app.tabs["data"].state, view)
    page.user_sets(model.method, "lora")
    for component, value in ((model.learning_rate, 0.0007), (model.epochs, 2), (model.batch_size, 16),
                             (model.patience, 0), (model.evals_per_epoch, 3)):
        page.user_sets(component, value)
    page.click(train.start)
    t = page.submitted[0].train
    assert (t.learning_rate, t.epochs, t.batch_size, t.patience, t.evals_per_epoch) == (0.0007, 2, 16, 0, 3)


def test_each_method_shows_only_its_own_setting(app):
    model = app.tabs["model"]
    page = Page(app)
    shown = lambda: (page.visible[model.freeze_depth._id], page.visible[model.lora_rank._id])  # noqa: E731
    assert shown() == (False, False)  # auto, the default
    for method, expected in (("freeze", (True, False)), ("lora", (False, True)), ("full", (False, False)),
                             ("auto", (False, False))):
        page.user_sets(model.method, method)
        assert shown() == expected, method


@pytest.fixture(scope="module")
def wide_model_dir(tmp_path_factory, tiny_model_dir):
    """A 768-wide, 2-layer BERT with the tiny model's tokenizer; a small vocabulary keeps it light (it only sizes
    presets here: nothing trains)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("wide-bert")
    config = BertConfig(vocab_size=1000, hidden_size=768, num_hidden_layers=2, num_attention_heads=12,
                        intermediate_size=768, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


def test_changing_the_model_applies_the_preset_for_its_size(app, view, wide_model_dir):
    model, train = app.tabs["model"], app.tabs["train"]
    page = Page(app)
    page.load(app.tabs["data"].state, view)
    page.user_sets(model.method, "freeze")
    page.user_sets(model.freeze_depth, MINILM_LAYERS)
    page.user_sets(model.model_choice, str(wide_model_dir))  # 2 layers: the depth follows, still every layer
    factor = 2 ** 0.5 if app.studio.device_type == "cuda" else 1.0
    assert page.value(model.freeze_depth) == 2
    assert page.value(model.learning_rate) == pytest.approx(50 * 4e-5 * factor)  # base-size rate, head only
    page.click(train.start)
    # A new model's tokenizer measures the texts again and the page suggests a max length from them (no preset's).
    suggested = str(page.value(model.max_length))
    from_cli = cli_config(view, "balanced", ["--model", str(wide_model_dir), "--freeze", "all", "--max-length",
                                             suggested], app.studio.device_type)
    assert without_name(page.submitted[0]) == without_name(from_cli)
