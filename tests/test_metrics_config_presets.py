import pytest

from studio import metrics, presets
from studio.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig


def test_full_report_numbers():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 1, 0]
    report = metrics.full_report(y_true, y_pred, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    rows = {r["label"]: r for r in report["per_class"]}
    assert rows["a"]["precision"] == pytest.approx(2 / 3) and rows["a"]["recall"] == pytest.approx(2 / 3)
    assert rows["c"]["f1"] == 0 and rows["b"]["support"] == 2
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)


def test_summary_names_the_main_confusion():
    report = metrics.full_report([0, 0, 0, 1, 1], [1, 1, 0, 1, 1], ["refund", "billing"])
    text = metrics.summarize(report)
    assert "60.0%" in text and 'confuses "refund" with "billing"' in text and "2 test examples" in text


HAM_SPAM = ["ham", "spam"]
TRAIN_80_20 = [0] * 80 + [1] * 20
TEST_13_2 = [0] * 13 + [1] * 2      # always answering "ham" is right 13 of 15 times


def test_one_label_for_everything_is_called_out_next_to_the_baseline():
    report = metrics.full_report(TEST_13_2, [0] * 15, HAM_SPAM, TRAIN_80_20)
    assert report["baseline"] == {"label": "ham", "accuracy": pytest.approx(13 / 15), "source": "train"}
    codes = {w["code"]: w for w in report["warnings"]}
    assert codes["single_label"] == {"code": "single_label", "label": "ham"}
    assert codes["never_predicts"]["labels"] == ["spam"]
    assert codes["no_better_than_baseline"]["baseline_accuracy"] == pytest.approx(13 / 15)
    english = metrics.summarize(report)
    assert english.startswith("Warning: 86.7% right: the same as always answering \"ham\"")
    assert 'answers "ham" for every text and never predicts "spam"' in english and "class weights" in english
    assert 'add more examples of "spam"' in english
    chinese = metrics.summarize(report, "zh-CN")
    assert chinese.startswith("警告：正确率 86.7%，与总是回答“ham”相同")
    assert "从不预测“spam”" in chinese and "类别权重" in chinese
    assert metrics.warning_text(report) in english and metrics.warning_text(report, "zh-CN") in chinese


def test_the_baseline_is_the_training_majority_or_else_the_test_majority():
    # Training mostly "spam", test mostly "ham": the baseline answers "spam", right 2 of 15 times.
    from_train = metrics.full_report(TEST_13_2, TEST_13_2, HAM_SPAM, [1] * 70 + [0] * 30)
    assert from_train["baseline"] == {"label": "spam", "accuracy": pytest.approx(2 / 15), "source": "train"}
    from_test = metrics.full_report(TEST_13_2, TEST_13_2, HAM_SPAM)
    assert from_test["baseline"] == {"label": "ham", "accuracy": pytest.approx(13 / 15), "source": "test"}


def test_a_label_never_predicted_is_named():
    report = metrics.full_report([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1], ["a", "b", "c"], [0, 0, 1, 2])
    assert report["warnings"] == [{"code": "never_predicts", "labels": ["c"]}]
    english = metrics.summarize(report)
    assert english.startswith('Warning: 66.7% right, against 33.3% for always answering "a"; it never predicts "c".')
    assert "for every text" not in english
    assert "从不预测“c”" in metrics.summarize(report, "zh-CN")


def test_worse_than_the_baseline_is_called_out_even_with_every_label_answered():
    report = metrics.full_report(TEST_13_2, [0] * 10 + [1] * 3 + [1, 0], HAM_SPAM, TRAIN_80_20)
    assert [w["code"] for w in report["warnings"]] == ["no_better_than_baseline"]
    assert 'worse than always answering "ham" (86.7%)' in metrics.warning_text(report)
    assert "还不如总是回答“ham”（86.7%）" in metrics.warning_text(report, "zh-CN")


def test_a_good_model_gets_no_warning_but_still_the_baseline():
    report = metrics.full_report(TEST_13_2, [0] * 13 + [1, 0], HAM_SPAM, TRAIN_80_20)
    assert report["warnings"] == [] and metrics.warning_text(report) == "" == metrics.warning_text(report, "zh-CN")
    english, chinese = metrics.summarize(report), metrics.summarize(report, "zh-CN")
    assert english.startswith("On 15 test examples the model was right 93.3% of the time")
    assert 'always answering "ham" would be right 86.7%' in english and "Warning" not in english
    assert "如果总是回答“ham”，正确率为 86.7%" in chinese and "警告" not in chinese


def test_a_test_split_of_one_label_cannot_tell_and_warns_of_nothing():
    assert metrics.full_report([0, 0, 0], [0, 0, 0], HAM_SPAM, TRAIN_80_20)["warnings"] == []


def test_both_languages_come_from_the_same_details():
    report = metrics.full_report([0, 0, 0, 1, 1], [1, 1, 0, 1, 1], ["refund", "billing"])
    details = metrics.summary_details(report)
    assert details["confusion"] == ("refund", "billing", 2) and details["baseline"]["label"] == "refund"
    assert "“refund”误判为“billing”：有 2 个" in metrics.summarize(report, "zh-CN")
    assert metrics.summarize(report, with_warning=False) == metrics.summarize({**report, "warnings": []})


def test_config_round_trip_and_validation():
    config = RunConfig(data=DataConfig(train_file="t.csv"), model=ModelConfig(method="lora", lora_r=4),
                       train=TrainConfig(epochs=2))
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_dict({**config.to_dict(), "unknown": 1, "train": {"epochs": 3, "old_field": 0}}).train.epochs == 3
    for bad in (dict(learning_rate=2.0), dict(epochs=0), dict(batch_size=0), dict(max_length=4)):
        with pytest.raises(ConfigError):
            RunConfig(data=DataConfig(train_file="t.csv"), train=TrainConfig(**bad)).validate()
    with pytest.raises(ConfigError, match="training file"):
        RunConfig().validate()


def test_presets_scale_learning_rate_with_model_and_method():
    small = presets.preset_settings("balanced", 384)
    base = presets.preset_settings("balanced", 768)
    lora = presets.preset_settings("balanced", 384, "lora")
    head = presets.preset_settings("balanced", 384, "freeze", -1)
    assert small.learning_rate > base.learning_rate
    assert lora.learning_rate == pytest.approx(10 * small.learning_rate)
    assert head.learning_rate > lora.learning_rate
    assert presets.preset_settings("quick").epochs < small.epochs < presets.preset_settings("best").epochs
    with pytest.raises(ValueError):
        presets.preset_settings("turbo")


def test_presets_take_bigger_batches_on_a_gpu():
    assert presets.preset_settings("balanced", 384, device_type="cpu").batch_size == 32
    gpu = presets.preset_settings("balanced", 384, device_type="cuda")
    assert gpu.batch_size == 64
    assert gpu.learning_rate == pytest.approx(2 ** 0.5 * presets.preset_settings("balanced", 384).learning_rate)


def test_build_config_applies_the_preset_for_size_method_and_device():
    data = DataConfig(train_file="t.csv")
    plain = presets.build_config(data, "m", "full", "balanced", "cpu", hidden_size=384, layer_count=6)
    lora = presets.build_config(data, "m", "lora", "balanced", "cpu", hidden_size=384, layer_count=6, lora_r=4)
    head = presets.build_config(data, "m", "freeze", "balanced", "cpu", hidden_size=384, layer_count=6,
                                freeze_layers=6)
    gpu = presets.build_config(data, "m", "full", "balanced", "cuda", hidden_size=384, layer_count=6)
    assert plain.train.learning_rate == pytest.approx(1e-4) and plain.train.batch_size == 32
    assert lora.train.learning_rate == pytest.approx(1e-3) and (lora.model.lora_r, lora.model.lora_alpha) == (4, 8)
    assert head.model.freeze_layers == -1 and head.train.learning_rate == pytest.approx(5e-3)
    assert gpu.train.batch_size == 64 and gpu.train.learning_rate == pytest.approx(2 ** 0.5 * 1e-4)
    assert presets.build_config(data, "m").model.method == "auto"


def test_build_config_keeps_only_the_chosen_methods_settings_and_what_the_user_set():
    data = DataConfig(train_file="t.csv")
    full = presets.build_config(data, "m", "full", freeze_layers=3, lora_r=32)
    assert (full.model.freeze_layers, full.model.lora_r, full.model.lora_alpha) == (0, 8, 16)
    half = presets.build_config(data, "m", "freeze", layer_count=12, freeze_layers=None)
    assert half.model.freeze_layers == 6
    typed = presets.build_config(data, "m", "full", overrides={"learning_rate": 3e-5, "epochs": None})
    assert typed.train.learning_rate == 3e-5 and typed.train.epochs == presets.PRESETS["balanced"].epochs
    with pytest.raises(ConfigError, match="Unknown training setting"):
        presets.build_config(data, "m", overrides={"learning_rat": 1e-4})
    with pytest.raises(ConfigError, match="method"):
        presets.build_config(data, "m", "head")
