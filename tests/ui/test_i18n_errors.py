"""The data doctor's findings, the data layer's errors and the settings' refusals reach a Chinese page in Chinese."""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
import torch

import studio
from studio import data, models
from studio.config import CONFIG_CODES, ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from studio.data.doctor import FINDING_CODES
from studio.data.errors import ERROR_CODES
from studio.training import prepare_splits
from studio.ui import data_tab, i18n

CORE = Path(studio.__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# Words a Chinese sentence keeps as they are: file kinds, encodings, products, the split column's own values.
KEPT = {"csv", "tsv", "txt", "excel", "xlsx", "xls", "json", "lines", "utf", "lora", "libreoffice", "python", "zip",
        "train", "validation", "val", "dev", "test", "cp1252", "gb18030", "text", "label", "world", "unk"}


def english_words(sentence: str, details: dict) -> set[str]:
    """The English words of a sentence, less those that are the error's own values (a file or column name)."""
    values = " ".join(str(v) for v in details.values())
    own = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", values)}
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", sentence)} - own - KEPT


def assert_chinese(error, chinese: str):
    assert CJK.search(chinese), chinese
    leaked = {w for w in english_words(str(error), error.details) if re.search(rf"\b{w}\b", chinese, re.I)}
    assert not leaked, (chinese, leaked)


def test_every_code_the_data_layer_emits_is_registered():
    """A new `code=` or doctor finding without an entry in the registry (and so, below, without Chinese) fails."""
    emitted, found = set(), set()
    for path in [*(CORE / "data").glob("*.py"), CORE / "training.py"]:
        source = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'\bcode="([a-z_]+)"', source))
        found |= set(re.findall(r'\b(?:add|Finding)\(\s*"(?:error|warning|info)",\s*"([a-z_]+)"', source))
    assert emitted and found
    assert emitted <= set(ERROR_CODES), emitted - set(ERROR_CODES)
    assert found | set(ERROR_CODES) <= set(FINDING_CODES), (found | set(ERROR_CODES)) - set(FINDING_CODES)


@pytest.mark.parametrize("code", FINDING_CODES)
def test_every_finding_code_has_a_chinese_sentence(code):
    if code == "read_note":  # translated by its wording, tests/ui/test_i18n.py
        return
    assert code in i18n.FINDINGS_ZH or code in i18n.ERRORS_ZH


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_data_error_code_has_a_chinese_sentence(code):
    template = i18n.ERRORS_ZH[code]
    for sentence in template.values() if isinstance(template, dict) else [template]:
        assert CJK.search(sentence)


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def _raised(call) -> data.DataError:
    with pytest.raises(data.DataError) as raised:
        call()
    return raised.value


def _common_errors(tmp_path) -> dict[str, data.DataError]:
    rows = "".join(f"text number {i} about things,{'ab'[i % 2]}\n" for i in range(40))
    good = _write(tmp_path, "good.csv", "text,label\n" + rows)
    one = _write(tmp_path, "one.csv", "text,label\n" + "".join(f"some text {i},same\n" for i in range(30)))
    tiny = _write(tmp_path, "tiny.csv", "text,label\nthe first text,a\nthe second text,b\nthe third text,a\n"
                                        "the fourth text,b\n")
    return {
        "missing_file": _raised(lambda: data.read_table(str(tmp_path / "nowhere.csv"))),
        "empty_file": _raised(lambda: data.read_table(_write(tmp_path, "empty.csv", ""))),
        "too_large": _raised(lambda: data.read_table(good, max_bytes=100)),
        "file_kind": _raised(lambda: data.read_table(_write(tmp_path, "report.pdf", "%PDF-1.4 text"))),
        "wrong_encoding": _raised(lambda: data.read_table(
            _write(tmp_path, "gbk.csv", "文本,标签\n" + "今天天气很好,正面\n" * 30, "gb18030"), encoding="utf-8")),
        "unknown_encoding": _raised(lambda: data.read_table(good, encoding="no-such-codec")),
        "no_text_column": _raised(lambda: data.read_examples(good, text_column="body")),
        "no_label_column": _raised(lambda: data.read_examples(good, label_column="category")),
        "same_column": _raised(lambda: data.read_examples(good, text_column="text", label_column="text")),
        "single_class": _raised(lambda: prepare_splits(RunConfig(data=DataConfig(train_file=one)))),
        "nothing_left": _raised(lambda: prepare_splits(RunConfig(data=DataConfig(train_file=tiny)))),
        "unknown_label": _raised(lambda: data.read_examples(good, label_names={"c": "Cats"})),
        "duplicate_label_name": _raised(lambda: data.read_examples(good, label_names={"a": "Same", "b": "Same"})),
    }


def test_the_common_data_errors_read_in_chinese(tmp_path):
    for code, error in _common_errors(tmp_path).items():
        assert error.code == code, (code, str(error))
        chinese = i18n.error_text(error, "zh-CN")
        assert_chinese(error, chinese)
        assert i18n.error_text(error, "en") == str(error)


def test_a_data_error_keeps_its_code_and_values_through_a_worker_process(tmp_path):
    error = _raised(lambda: data.read_table(str(tmp_path / "nowhere.csv")))
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.code, copy.details) == (type(error), str(error), error.code, error.details)


def test_an_error_without_a_chinese_sentence_stays_in_english():
    assert i18n.error_text(data.DataError("Something new went wrong."), "zh-CN") == "Something new went wrong."
    # a code whose values are missing cannot fill its sentence: the English one, never a crash
    assert i18n.error_text(data.DataError("Too big.", code="too_large", variant="file"), "zh-CN") == "Too big."
    assert i18n.error_text(ValueError("plain"), "zh-CN") == "plain"


def _config(data_settings=None, model=None, train=None, train_file="t.csv") -> RunConfig:
    return RunConfig(data=DataConfig(train_file=train_file, **(data_settings or {})),
                     model=ModelConfig(**(model or {})), train=TrainConfig(**(train or {})))


# One setting for each sentence RunConfig.validate can answer with (tests/test_config.py holds their English).
REFUSED = [
    _config(train_file=""), _config(model={"method": "head"}), _config(model={"method": "lora", "lora_r": 0}),
    _config(model={"method": "freeze", "freeze_layers": -2}), _config(train={"learning_rate": 1.5}),
    _config(train={"epochs": 0}), _config(train={"batch_size": 0}), _config(train={"max_length": 7}),
    _config(train={"warmup_ratio": 1.0}), _config(train={"devices": 0}), _config(train={"patience": -1}),
    _config(train={"seed": -1}), _config(data_settings={"val_fraction": 0.5}),
    _config(data_settings={"max_rows": 9}), _config(data_settings={"text_columns": []}),
    _config(data_settings={"text_columns": ["body", " "]}), _config(data_settings={"text_columns": ["a", "a"]}),
    _config(data_settings={"text_column": "a", "label_column": "a"}),
    _config(data_settings={"label_names": ["World"]}), _config(data_settings={"label_names": {"1": " "}}),
    _config(data_settings={"label_names": {"1": "World", "2": "World"}}),
]


def test_every_refusal_of_the_settings_reads_in_chinese():
    codes = []
    for config in REFUSED:
        with pytest.raises(ConfigError) as raised:
            config.validate()
        error = raised.value
        codes.append(error.code)
        assert error.code in CONFIG_CODES and error.code in i18n.CONFIG_ZH, str(error)
        assert_chinese(error, i18n.error_text(error, "zh-CN"))
        assert i18n.error_text(error, "en") == str(error)
    assert sorted(codes) == sorted(CONFIG_CODES)  # every sentence validate has, each reached once


def test_every_config_error_raised_carries_a_code():
    source = (CORE / "config.py").read_text(encoding="utf-8")
    raises = source.count("raise ConfigError(")
    assert raises == len(CONFIG_CODES)
    assert set(re.findall(r'",\s*"([a-z_]+)"[,)]', source)) >= set(CONFIG_CODES)


def test_the_data_tab_says_an_unreadable_file_and_a_failed_split_in_chinese(tmp_path):
    view = data_tab.analyse(_write(tmp_path, "report.pdf", "%PDF-1.4 text"))
    [finding] = view["findings"]
    assert finding["code"] == "file_kind"
    assert "不是工作室能读取的文件类型" in i18n.finding_text(finding, "zh-CN")
    rows = "".join(f"text number {i} about things,{'ab'[i % 2]},{'train' if i < 16 else 'holdout'}\n" for i in range(20))
    view = data_tab.analyse(_write(tmp_path, "split.csv", "text,label,part\n" + rows), "text", "label",
                            split_column="part")
    assert view["split_error"].startswith('The split column holds "holdout"')
    assert "划分列中有“holdout”" in data_tab.split_markdown(view, "zh-CN")
    assert data_tab.split_markdown(view, "en") == f"⛔ {view['split_error']}"


def test_the_doctor_findings_added_since_read_in_chinese(tmp_path):
    text = "text,label\n" + "".join(f"a text about item {i},{'ab'[i % 2]}\n" for i in range(30)) + \
        "one more text,N/A\nanother one,N/A\nthe last text,a\u200b\n"
    report = data.inspect(_write(tmp_path, "labels.csv", text))
    for code in ("missing_labels", "invisible_characters"):
        finding = report.get(code)
        assert finding is not None, report.codes()
        chinese = i18n.finding_text(dict(severity=finding.severity, code=code, message=finding.message,
                                         details=finding.details), "zh-CN")
        assert CJK.search(chinese) and chinese != finding.message
    unreadable = data.inspect(str(tmp_path / "nowhere.csv")).findings[0]
    chinese = i18n.finding_text(dict(severity="error", code=unreadable.code, message=unreadable.message,
                                     details=unreadable.details), "zh-CN")
    assert "找不到文件" in chinese


@pytest.mark.parametrize("code", models.MODEL_ERROR_CODES)
def test_every_model_error_code_has_a_chinese_sentence(code):
    assert CJK.search(i18n.MODEL_ERRORS_ZH[code])


def test_every_model_error_raised_carries_a_registered_code():
    source = (CORE / "models.py").read_text(encoding="utf-8")
    calls = re.findall(r"(?:raise|return) ModelError\((.*?)\)\n", source, re.S)
    assert len(calls) == len(models.MODEL_ERROR_CODES)
    assert {re.findall(r'"([a-z_]+)"', call)[-1] for call in calls} == set(models.MODEL_ERROR_CODES)


def test_the_model_errors_read_in_chinese(tmp_path):
    kept = KEPT | {"safetensors", "pickle", "bin", "config", "save", "pretrained", "safe", "serialization", "true",
                   "full", "freeze"}
    folders = {"no_config": [], "pickle_weights": ["config.json", "pytorch_model.bin"], "no_weights": ["config.json"]}
    errors = []
    for code, files in folders.items():
        folder = tmp_path / code
        folder.mkdir()
        for name in files:
            (folder / name).write_text("{}")
        with pytest.raises(models.ModelError) as raised:
            models.check_weights(str(folder))
        errors.append(raised.value)
    with pytest.raises(models.ModelError) as raised:
        models.layers_of(torch.nn.Linear(2, 2))
    errors.append(raised.value)
    for error in errors:
        chinese = i18n.error_text(error, "zh-CN")
        assert CJK.search(chinese), chinese
        leaked = {w for w in english_words(str(error), error.details) - kept if re.search(rf"\b{w}\b", chinese, re.I)}
        assert not leaked, (chinese, leaked)
        copy = pickle.loads(pickle.dumps(error))
        assert (copy.code, copy.details, str(copy)) == (error.code, error.details, str(error))


def test_a_table_without_a_usable_row_reads_in_chinese(tmp_path):
    report = data.inspect(_write(tmp_path, "blank.csv", "body,tag\n" + "some text,\n" * 5 + ",a\n" * 5),
                          text_column="body", label_column="tag")
    finding = report.get("empty_text")
    assert finding.severity == "error"
    chinese = i18n.finding_text(dict(severity="error", code="empty_text", message=finding.message,
                                     details=finding.details), "zh-CN")
    assert "没有哪一行同时在“body”列有文本" in chinese
