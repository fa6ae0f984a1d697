"""The studio's handlers called directly: plain values in, plain values out, a sentence for every failure."""
from __future__ import annotations

import csv
import time
import zipfile

import pytest

from studio.runs import Run
from studio.config import RunConfig, DataConfig
from studio.ui import context, data_tab, evaluate_tab, i18n, model_tab, playground_tab, runs_tab, train_tab
from studio.ui.context import Studio

ROWS = [("I love this product, it works great", "positive"), ("Absolutely wonderful service", "positive"),
        ("Best purchase I made this year", "positive"), ("The staff were friendly and helpful", "positive"),
        ("Great quality, would buy again", "positive"), ("Fantastic, exceeded my expectations", "positive"),
        ("Terrible, it broke after one day", "negative"), ("Awful support, nobody answered", "negative"),
        ("The worst experience I have had", "negative"), ("It arrived damaged and late", "negative"),
        ("Poor quality, do not buy", "negative"), ("Disappointing and overpriced", "negative")]
QUICK = dict(method="full", freeze_layers=0, lora_r=8, preset="quick", learning_rate=5e-3, epochs=1, batch_size=8,
             max_length=32, warmup_ratio=0.0, weight_decay=0.0, patience=0, class_weights=False, seed=1,
             evals_per_epoch=1)


def _write_csv(path, rows, header=("review", "sentiment")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _choices(model_name, **settings):
    return model_tab.RunChoices(model_name=str(model_name), **{**QUICK, **settings})


def _start(studio, view, lang="en", run_name="", **settings):
    """(message, id of the new run or None): the Start button's handler with the quick settings."""
    message, _, run_id = train_tab.start_training(studio, view, _choices(studio.default_model, **settings), run_name,
                                                  lang)
    return message, run_id


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """48 rows, two labels."""
    rows = [(f"{text} ({i})", label) for i in range(4) for text, label in ROWS]
    return _write_csv(tmp_path_factory.mktemp("data") / "reviews.csv", rows)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, tiny_model_dir):
    return Studio.create(tmp_path_factory.mktemp("runs"), default_model=str(tiny_model_dir))


@pytest.fixture(scope="module")
def view(studio, reviews):
    return data_tab.analyse(str(reviews), model_name=studio.default_model)


@pytest.fixture(scope="module")
def finished_run(studio, view):
    message, run_id = _start(studio, view, run_name="first")
    assert run_id, message
    assert studio.manager.wait(run_id, timeout=180)
    assert Run(studio.runs_dir / run_id).state == "finished", Run(studio.runs_dir / run_id).status()
    return run_id


# --- data --------------------------------------------------------------------------------------
def test_analyse_detects_columns_labels_and_split(view):
    assert (view["rows"], view["text_column"], view["label_column"]) == (48, "review", "sentiment")
    assert view["label_counts"] == {"negative": 24, "positive": 24}
    assert not view["has_errors"] and sum(view["split_sizes"]) == 48
    assert view["token_lengths"]["p95"] > 0
    assert view["preview"]["columns"][:2] == ["sentiment", "review"]  # the short label column first


def test_sample_data_is_there_and_clean(studio):
    sample = data_tab.analyse(str(studio.sample_path), model_name=studio.default_model)
    assert sample["rows"] == 368 and len(sample["label_counts"]) == 6 and not sample["has_errors"]


def test_report_reads_in_both_languages(view):
    english = data_tab.report_markdown(view, "en")
    assert "48 rows, 2 labels" in english and "ready to train" in english
    chinese = data_tab.report_markdown(view, "zh-CN")
    assert "48 行" in chinese and "可以训练" in chinese
    assert "seed" in data_tab.split_markdown(view, "en") and "行用于训练" in data_tab.split_markdown(view, "zh-CN")


def test_a_binary_file_gets_a_sentence_not_a_traceback(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 40)
    bad = data_tab.analyse(str(path))
    assert bad["has_errors"] and bad["rows"] == 0
    assert "binary" in bad["findings"][0]["message"]
    assert "⛔" in data_tab.report_markdown(bad, "en")
    assert data_tab.render(bad, "en")[2].empty  # no preview, and nothing breaks


def test_a_missing_column_gets_a_sentence(reviews):
    bad = data_tab.analyse(str(reviews), text_column="no_such_column", label_column="sentiment")
    assert bad["has_errors"]
    assert "no_such_column" in data_tab.report_markdown(bad, "en")


def test_one_class_only_is_an_error_and_training_refuses(studio, tmp_path):
    path = _write_csv(tmp_path / "one.csv", [(text, "positive") for text, _ in ROWS])
    one = data_tab.analyse(str(path))
    assert one["has_errors"] and any(f["code"] == "single_class" for f in one["findings"])
    assert "两个标签" in data_tab.report_markdown(one, "zh-CN")
    message, run_id = _start(studio, one)
    assert run_id is None and "at least two labels" in message


def test_uploads_are_kept_under_the_runs_folder_once(studio, reviews):
    first = data_tab.keep_upload(studio, str(reviews))
    assert first.startswith(str(studio.uploads_dir)) and data_tab.keep_upload(studio, str(reviews)) == first
    assert data_tab.keep_upload(studio, None) is None


def test_reanalyse_uses_the_chosen_columns(view):
    outputs = data_tab.reanalyse(view, "sentiment", "review", None, 128, "en")
    assert outputs[0]["text_column"] == "sentiment" and outputs[0]["label_column"] == "review"


# --- model -------------------------------------------------------------------------------------
def test_trainable_parameters_follow_the_method(studio):
    full = model_tab.describe_model(studio.default_model, "full", 0, 8, 2)
    frozen = model_tab.describe_model(studio.default_model, "freeze", 1, 8, 2)
    head = model_tab.describe_model(studio.default_model, "freeze", 2, 8, 2)
    assert full["layers"] == 2 and full["trainable"] < full["total"]
    assert head["trainable"] < frozen["trainable"] < full["trainable"]
    assert model_tab.trainable_text(frozen, "en").startswith("**Trainable parameters:")
    assert "可训练参数" in model_tab.trainable_text(frozen, "zh-CN")
    assert "word-embedding table" in model_tab.trainable_text(full, "en")
    assert "word-embedding" not in model_tab.trainable_text(frozen, "en")
    assert "词向量表" in model_tab.trainable_text(full, "zh-CN")


def test_a_model_that_cannot_load_says_why(tmp_path, studio, view):
    (tmp_path / "empty-model").mkdir()
    name = str(tmp_path / "empty-model")
    assert "config.json" in model_tab.trainable_text(model_tab.describe_model(name, "full", 0, 8, 2), "en")
    assert model_tab.model_facts(name)["error"]
    message, shown, run_id = train_tab.start_training(studio, view, _choices(name), "", "en")
    assert run_id is None and shown is None and "config.json" in message


def test_a_hub_model_is_refused_at_once_when_the_hub_is_out_of_reach(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(context, "hub_reachable", lambda: False)
    started = time.monotonic()
    facts = model_tab.model_facts("someone/some-model")
    assert time.monotonic() - started < 2 and "cannot be reached" in facts["error"]
    assert "连不上模型库" in model_tab.model_facts("someone/some-model", "zh-CN")["error"]


def test_presets_fill_the_advanced_settings():
    quick = model_tab.preset_values("quick", 384, "auto", None, 6, "cpu")
    best = model_tab.preset_values("best", 768, "auto", None, 12, "cpu")
    assert quick["epochs"] == 3 and best["epochs"] == 12 and best["evals_per_epoch"] == 2
    assert quick["learning_rate"] > best["learning_rate"]
    assert set(quick) == set(model_tab.PRESET_FIELDS)
    head = model_tab.preset_values("quick", 384, "freeze", 6, 6, "cpu")  # every layer frozen: the head alone
    assert head["learning_rate"] == pytest.approx(50 * quick["learning_rate"])
    gpu = model_tab.preset_values("quick", 384, "auto", None, 6, "cuda")
    assert gpu["batch_size"] == 64 and gpu["learning_rate"] == pytest.approx(2 ** 0.5 * quick["learning_rate"])


def test_auto_is_counted_as_full_fine_tuning_and_says_so(studio):
    auto = model_tab.describe_model(studio.default_model, "auto", 0, 8, 2)
    full = model_tab.describe_model(studio.default_model, "full", 0, 8, 2)
    assert auto["method"] == "auto" and (auto["trainable"], auto["total"]) == (full["trainable"], full["total"])
    assert "chosen from your data when training starts" in model_tab.trainable_text(auto, "en")
    assert "训练开始时" in model_tab.trainable_text(auto, "zh-CN")
    assert "chosen from your data" not in model_tab.trainable_text(full, "en")
    assert model_tab.method_fields("freeze") == (True, False) and model_tab.method_fields("auto") == (False, False)


def test_max_length_is_suggested_from_token_lengths(view):
    suggested = model_tab.suggested_max_length(view, 512)
    assert 32 <= suggested <= 512 and suggested % 16 == 0
    assert model_tab.suggested_max_length({"token_lengths": {"p95": 900}}, 128) == 128
    assert model_tab.suggested_max_length(None) is None


def test_estimate_names_time_memory_and_device(studio, view):
    text = model_tab.estimate_text(studio.default_model, "full", 0, 8, view, 3, 32, 128, 1, "en")
    assert "Estimate (rough)" in text and "GB of memory" in text and "CPU" in text and "3 epochs" in text
    assert "估计" in model_tab.estimate_text(studio.default_model, "lora", 0, 8, view, 3, 32, 128, 1, "zh-CN")
    assert "once data is loaded" in model_tab.estimate_text(studio.default_model, "full", 0, 8, None, 3, 32, 128, 1,
                                                            "en")


CHINESE = ["外卖送得很快，味道不错", "太难吃了，再也不点了", "包装很好，服务周到", "送餐太慢，菜都凉了"]


def test_a_model_that_cannot_read_the_data_says_so_and_recommends_only_what_loads(monkeypatch):
    view = {"sample_texts": CHINESE}
    note = model_tab.model_note("all-MiniLM-L6-v2", view, "en")
    assert "cannot read your data's language" in note and "[UNK]" in note
    # Offline with an empty cache, no Chinese model can load: none is recommended, the way out is said instead.
    assert "Connect to the internet once" in note and "Pick one that reads it" not in note
    assert "读不懂你数据的语言" in model_tab.model_note("all-MiniLM-L6-v2", view, "zh-CN")
    # With bert-base-chinese in the local cache, it is the recommendation.
    monkeypatch.setattr(context.models, "in_local_cache", lambda repo: repo == "google-bert/bert-base-chinese")
    assert "Pick one that reads it and can be used now: bert-base-chinese." in model_tab.model_note(
        "all-MiniLM-L6-v2", view, "en")


def test_the_picker_says_which_models_can_be_used_now():
    labels = dict((value, label) for label, value in model_tab.model_choices("all-MiniLM-L6-v2", "en"))
    assert "ships with the studio" in labels["all-MiniLM-L6-v2"]
    assert "not on this machine" in labels["bert-base-chinese"]
    chinese = dict((value, label) for label, value in model_tab.model_choices("all-MiniLM-L6-v2", "zh-CN"))
    assert "中文" in chinese["bert-base-chinese"] and "本机没有" in chinese["bert-base-chinese"]
    assert "Chinese" not in chinese["bert-base-chinese"]


def test_a_model_folder_can_be_picked_and_a_missing_one_is_named(tiny_model_dir, tmp_path):
    picked, message = model_tab.use_folder(str(tiny_model_dir), "en")
    assert picked["value"] == str(tiny_model_dir) and "Using the model" in message
    assert str(tiny_model_dir) in [value for _, value in picked["choices"]]
    picked, message = model_tab.use_folder(str(tmp_path / "nowhere"), "zh-CN")
    assert picked is None and "没有" in message and "downloaded" not in message
    facts = model_tab.model_facts(str(tmp_path / "nowhere"))
    assert "no folder" in facts["error"] and "hub" not in facts["error"]


def test_the_data_tab_never_says_ready_when_the_model_cannot_read_the_text(tmp_path, tiny_model_dir):
    rows = [(text + str(i), label) for i in range(6) for text, label in zip(CHINESE, ["好", "差", "好", "差"])]
    path = _write_csv(tmp_path / "waimai.csv", rows, header=("review", "label"))
    view = data_tab.analyse(str(path), model_name=str(tiny_model_dir))
    for lang in ("en", "zh-CN"):
        report = data_tab.report_markdown(view, lang)
        assert "ready to train" not in report and "可以训练了" not in report
    assert "cannot read this text" in data_tab.report_markdown(view, "en")
    studio = Studio.create(tmp_path / "runs", default_model=str(tiny_model_dir))
    message, run_id = _start(studio, view)
    assert run_id is None and "cannot read your data's language" in message
    assert not studio.manager.active_runs()


# --- train -------------------------------------------------------------------------------------
def test_start_without_data_says_so(studio):
    message, run_id = _start(studio, None)
    assert run_id is None and "Data" in message
    assert "数据" in _start(studio, None, lang="zh-CN")[0]


def test_build_config_turns_a_full_freeze_into_head_only(view):
    choices = model_tab.RunChoices("m", "freeze", 6, 8, "quick", 1e-4, 2, 16, 64, 0.1, 0.01, 1, True, 3, 2)
    config = train_tab.build_config(view, choices, " name ", layers=6, width=384, device_type="cpu")
    assert config.model.freeze_layers == -1 and config.name == "name" and config.train.class_weights
    assert config.data.text_column == "review" and config.train.evals_per_epoch == 2
    assert (config.train.learning_rate, config.train.epochs, config.train.device) == (1e-4, 2, "cpu")


def test_empty_advanced_fields_take_the_presets_values(view):
    choices = model_tab.RunChoices("m", "lora", 3, 16, "best", None, "", None, 64, 0, 0, "", False, 3, None)
    config = train_tab.build_config(view, choices, layers=6, width=384, device_type="cuda")
    preset = model_tab.preset_values("best", 384, "lora", None, 6, "cuda")
    assert {field: getattr(config.train, field) for field in model_tab.PRESET_FIELDS} == preset
    assert (config.model.freeze_layers, config.model.lora_r, config.model.lora_alpha) == (0, 16, 32)


def test_a_finished_run_shows_status_progress_curves_and_log(studio, finished_run):
    changes = train_tab.poll(studio, finished_run, None, "en")
    assert changes["run_id"] == finished_run and changes["key"] == f"{finished_run}:finished"
    assert "Finished" in changes["status"] and "first" in changes["status"]
    assert 'data-state="finished"' in changes["progress"] and "Done in" in changes["progress"]
    assert "CPU" in changes["device"] and "training rows" in changes["device"]
    assert changes["loss"].data and changes["metric"].data
    assert "Started on" in changes["log"] and "validation at epoch" in changes["log"]
    # The next tick reads only what is new: nothing, so nothing to send.
    assert train_tab.poll(studio, finished_run, changes["watch"], "en") is None
    chinese = train_tab.poll(studio, finished_run, changes["watch"], "zh-CN")  # a new language: everything again
    assert "已完成" in chinese["status"] and "用时" in chinese["progress"]


def test_a_second_start_is_queued_and_stop_cancels(studio, view):
    first_message, first = _start(studio, view, epochs=60)
    second_message, second = _start(studio, view)
    try:
        assert first and second and first != second
        assert "queued" in second_message and "Only one run trains at a time" in second_message
        assert studio.manager.active_runs() == [first, second]
        assert Run(studio.runs_dir / second).state == "queued"
        # A page opened now shows the run that trains.
        assert studio.run_to_show(None) == first
        assert "Stopping" in train_tab.stop_training(studio, second, "en")
        assert Run(studio.runs_dir / second).state == "cancelled"
    finally:
        train_tab.stop_training(studio, first, "en")
        assert studio.manager.wait(first, timeout=60)
    assert Run(studio.runs_dir / first).state == "cancelled"
    assert "nothing to stop" in train_tab.stop_training(studio, first, "en")
    changes = train_tab.poll(studio, first, None, "en")
    assert "Stopped" in changes["status"] and 'data-state="cancelled"' in changes["progress"]


def test_a_page_follows_a_run_started_in_another_tab(studio, view):
    before = train_tab.poll(studio, None, None, "en")["watch"]
    _, run_id = _start(studio, view, epochs=60)
    try:
        changes = train_tab.poll(studio, before["run_id"], before, "en")
        assert changes["run_id"] == run_id and changes["key"].startswith(run_id)
    finally:
        studio.manager.cancel(run_id)
        studio.manager.wait(run_id, timeout=60)


def test_a_failed_run_shows_its_reason(studio, tmp_path):
    run = Run.create(studio.runs_dir, RunConfig(data=DataConfig(train_file=str(tmp_path / "gone.csv"))))
    run.set_status("running")
    run.append_event({"type": "failed", "message": "There is no file at gone.csv; check the name and folder."})
    run.set_status("failed", "There is no file at gone.csv; check the name and folder.")
    changes = train_tab.poll(studio, run.id, None, "en")
    assert "Failed" in changes["status"] and "There is no file at gone.csv" in changes["status"]
    assert "There is no file" in changes["log"]
    assert "no test results" in evaluate_tab.metrics_html(evaluate_tab.evaluation(studio, run.id), "en")


# --- evaluate, playground, runs ----------------------------------------------------------------
def test_evaluation_has_metrics_table_heatmap_and_mistakes_most_confident_first(studio, finished_run):
    header, metrics, per_class, confusion, note, mistakes = evaluate_tab.render(studio, finished_run, "en")
    assert "Accuracy" in metrics and "Macro-F1" in metrics and "In short:" in metrics
    assert "Always answering" in metrics and "always answering" in metrics  # the baseline card and sentence
    assert list(per_class.columns) == ["Label", "Precision", "Recall", "F1", "Support"] and len(per_class) == 2
    assert confusion.data[0].type == "heatmap"
    confidences = [float(c.rstrip("%")) for c in mistakes["Confidence"]]
    assert confidences == sorted(confidences, reverse=True)
    assert "简而言之" in evaluate_tab.render(studio, finished_run, "zh-CN")[1]


def test_a_model_answering_one_label_is_called_out_in_train_evaluate_and_runs(tmp_path, tiny_model_dir, one_text_csv):
    studio = Studio.create(tmp_path / "runs", default_model=str(tiny_model_dir))
    view = data_tab.analyse(str(one_text_csv), model_name=studio.default_model)
    message, run_id = _start(studio, view)
    assert run_id, message
    assert studio.manager.wait(run_id, timeout=180)
    english = evaluate_tab.render(studio, run_id, "en")[1]
    assert 'class="studio-warning"' in english and english.count("Warning:") == 1  # not repeated in the summary
    assert "for every text and never predicts" in english and "class weights" in english
    assert "Always answering &quot;ham&quot;" in english and "80.0%" in english
    chinese = evaluate_tab.render(studio, run_id, "zh-CN")[1]
    assert 'class="studio-warning"' in chinese and chinese.count("警告：") == 1
    assert "从不预测" in chinese and "类别权重" in chinese and "总是回答“ham”" in chinese
    assert "⚠️ Warning:" in train_tab.poll(studio, run_id, None, "en")["status"]
    assert "⚠️ 警告：" in train_tab.poll(studio, run_id, None, "zh-CN")["status"]
    frame = runs_tab.runs_frame(studio, "en")
    assert frame[frame["Run"] == run_id].iloc[0]["Test acc."].startswith("⚠️")


def test_evaluation_without_a_run_says_where_to_go(studio):
    assert "No run to show" in evaluate_tab.render(studio, None, "en")[1]


def test_playground_classifies_a_text_and_a_file(studio, finished_run, reviews):
    assert finished_run in [value for _, value in playground_tab.run_choices(studio)]
    scores, message = playground_tab.classify_text(studio, finished_run, "great quality", "en")
    assert set(scores) == {"positive", "negative"} and abs(sum(scores.values()) - 1) < 1e-3
    assert "sure" in message
    assert playground_tab.classify_text(studio, finished_run, "   ", "en") == (None, "Type some text to classify.")
    assert "Pick a finished run" in playground_tab.classify_text(studio, None, "hi", "en")[1]
    path, message = playground_tab.classify_upload(studio, finished_run, str(reviews), "en")
    header = open(path, encoding="utf-8").readline()
    assert "predicted_label" in header and "confidence" in header and "48 rows" in message
    examples = playground_tab.example_texts(studio, finished_run)
    assert examples and all(isinstance(t, str) and t for t in examples)


def test_playground_explains_a_file_it_cannot_read(studio, finished_run, tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\x00\x01\x02" * 500)
    out, message = playground_tab.classify_upload(studio, finished_run, str(path), "en")
    assert out is None and message.startswith("⛔")


def test_runs_table_zip_and_delete(studio, finished_run, tmp_path):
    frame = runs_tab.runs_frame(studio, "en")
    row = frame[frame["Run"] == finished_run].iloc[0]
    assert row["Status"] == "Finished" and row["Name"] == "first" and row["Test acc."].endswith("%")
    assert "状态" in runs_tab.runs_frame(studio, "zh-CN").columns
    path, message = runs_tab.zip_model(studio, finished_run, "en")
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path)
    from transformers import pipeline
    classify = pipeline("text-classification", model=str(tmp_path / f"{finished_run}-model"))
    assert classify("great quality")[0]["label"] in {"positive", "negative"}
    assert "Pick a run" in runs_tab.zip_model(studio, None, "en")[1]
    doomed = Run.create(studio.runs_dir, RunConfig())
    doomed.set_status("cancelled")
    assert "has no saved model" in runs_tab.zip_model(studio, doomed.id, "en")[1]
    assert "Deleted" in runs_tab.remove_run(studio, doomed.id, "en")
    assert studio.find_run(doomed.id) is None
    assert "Pick a run" in runs_tab.remove_run(studio, "../etc", "en")


# --- language ----------------------------------------------------------------------------------
def test_every_string_has_english_and_chinese():
    for key, (english, chinese) in i18n.STRINGS.items():
        assert english.strip() or key == "status_unknown", key
        assert chinese.strip() or key == "status_unknown", key
        assert english.count("{") == chinese.count("{"), key


def test_the_browser_table_holds_only_strings_without_placeholders():
    for locale, table in i18n.I18N.translations.items():
        assert all("{" not in text for text in table.values()), locale
    assert "tab_data" in i18n.I18N.translations["zh-CN"]


def test_findings_are_translated_from_their_numbers():
    finding = {"code": "duplicates", "severity": "warning", "message": "3 rows repeat...", "details": {"rows": 3}}
    assert i18n.finding_text(finding, "en") == "3 rows repeat..."
    assert i18n.finding_text(finding, "zh-CN").startswith("3 行")
    odd = {"code": "read_note", "severity": "info", "message": "Dropped 1 empty column.", "details": {}}
    assert i18n.finding_text(odd, "zh-CN") == "Dropped 1 empty column."


def test_durations_read_naturally():
    assert i18n.duration_text(42, "en") == "42 s"
    assert i18n.duration_text(125, "en") == "2 min 5 s"
    assert i18n.duration_text(3725, "zh-CN") == "1 小时 2 分"


def test_a_running_page_names_the_first_answer_then_the_best_checkpoint():
    from studio.ui import train_tab
    probe_eval = {"type": "eval", "step": 0, "epoch": 0.0, "loss": 0.5, "accuracy": 0.781, "macro_f1": 0.77,
                  "best": True, "probe": True}
    watch = train_tab.absorb(train_tab.fresh_watch("r1", "en", []), [{"type": "started", "epochs": 6}, probe_eval], "en")
    for lang, words in (("en", "First answer: 78.1%"), ("zh", "第一个答案：验证集准确率 78.1%")):
        assert words in train_tab.status_text("r1", "", {"state": "running"}, watch, lang)
    assert "first answer" in watch["log"][-1]
    later = {**probe_eval, "step": 40, "epoch": 2.0, "accuracy": 0.83, "probe": None}
    watch = train_tab.absorb(watch, [later], "en")
    text = train_tab.status_text("r1", "", {"state": "running"}, watch, "en")
    assert "83.0%" in text and "epoch 2.0" in text and "First answer" not in text


def test_an_auto_run_says_what_it_chose(tmp_path):
    import json
    from studio.config import ModelConfig
    run = Run.create(tmp_path / "runs", RunConfig(data=DataConfig(train_file="t.csv"), model=ModelConfig(method="auto")))
    assert runs_tab.method_text(run, "en") == "Auto"  # not known until training has started
    (run.path / "metrics.json").write_text(json.dumps({"method": "freeze", "freeze_layers": -1}))
    assert runs_tab.method_text(run, "en") == "Auto: Head only"
    assert runs_tab.method_text(run, "zh") == "自动: 仅训练输出层"
    (run.path / "metrics.json").write_text(json.dumps({"method": "full", "freeze_layers": 0}))
    assert runs_tab.method_text(run, "en") == "Auto: Full fine-tuning"
