"""The studio launched for real (prevent_thread_lock=True) and driven over HTTP with gradio_client."""
from __future__ import annotations

import time

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from studio.jobs import JobManager  # noqa: E402
from studio.sharing import free_port  # noqa: E402
from studio.ui.app import build_app, launch  # noqa: E402

LABELS = {"billing", "technical_issue", "shipping", "account_access", "refund_request", "product_question"}


@pytest.fixture(scope="module")
def studio_app(tmp_path_factory, tiny_model_dir):
    app = build_app(str(tmp_path_factory.mktemp("api-runs")), default_model=str(tiny_model_dir))
    port = free_port()
    launch(app, port=port, prevent_thread_lock=True, quiet=True)
    yield app, f"http://127.0.0.1:{port}"
    app.close()


@pytest.fixture
def client(studio_app):
    return Client(studio_app[1], verbose=False)


def _settings(tiny, epochs=1, run_name="api run"):
    # model, method, freeze layers, LoRA rank, preset, learning rate, epochs, batch, max length, warm-up,
    # weight decay, patience, class weights, seed, evaluations per epoch, run name, language
    return [str(tiny), "full", 0, 8, "quick", 5e-3, epochs, 16, 64, 0.0, 0.0, 0, False, 1, 1, run_name, "en"]


def _poll_until(client, text, timeout=120):
    deadline, seen = time.time() + timeout, ""
    while time.time() < deadline:
        status = client.predict("en", api_name="/poll")[1]
        seen = status if isinstance(status, str) else seen  # a dict: gr.skip(), nothing changed
        if text in seen:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"status never said {text!r}; last: {seen!r}")


def test_one_manager_per_app(studio_app):
    app, _ = studio_app
    assert isinstance(app.studio.manager, JobManager)
    assert app.studio.manager.runs_dir == app.studio.runs_dir  # the page's runs are the ones the manager trains


def test_sample_to_trained_model_over_http(studio_app, client, tiny_model_dir):
    app, _ = studio_app
    report = client.predict(None, None, str(tiny_model_dir), 128, "en", api_name="/load_sample")[1]
    assert "368 rows" in report and "ready to train" in report
    trainable = client.predict(str(tiny_model_dir), "freeze", 1, 8, "en", api_name="/describe_model")
    assert trainable.startswith("**Trainable parameters:") and "100.0%" not in trainable

    message, run_id, *_ = client.predict(*_settings(tiny_model_dir), api_name="/start_training")
    assert run_id and run_id in message
    status = _poll_until(client, "Finished")
    assert "api run" in status

    # Another browser tab (another session) opening the page sees the same run.
    other = Client(client.src, verbose=False)
    assert "Finished" in _poll_until(other, "Finished", timeout=20)

    scores, message = client.predict(run_id, "I was charged twice for my order", "en", api_name="/classify")
    assert scores["label"] in LABELS and "sure" in message
    table, _ = client.predict(None, "en", api_name="/list_runs")
    assert run_id in [row[0] for row in table["data"]]
    assert app.studio.find_run(run_id).has_model()

    # A third page opens the run from the Runs tab: the Train view switches to it.
    third = Client(client.src, verbose=False)
    opened = third.predict(run_id, "en", api_name="/open_run")
    assert any(isinstance(x, str) and "Opened run" in x for x in opened)
    assert "api run" in _poll_until(third, "Finished", timeout=20)


def test_a_second_start_is_queued_not_run_alongside(studio_app, client, tiny_model_dir):
    app, _ = studio_app
    client.predict(None, None, str(tiny_model_dir), 128, "en", api_name="/load_sample")
    _, first, *_ = client.predict(*_settings(tiny_model_dir, epochs=80, run_name="long"), api_name="/start_training")
    second_tab = Client(client.src, verbose=False)
    second_tab.predict(None, None, str(tiny_model_dir), 128, "en", api_name="/load_sample")
    message, shown, *_ = second_tab.predict(*_settings(tiny_model_dir), api_name="/start_training")
    try:
        assert "queued" in message and app.studio.manager.active_runs()[0] == first
        second = app.studio.manager.active_runs()[1]
        assert second in message and shown == first  # the page keeps showing the run that trains, its curves too
        assert "Training" in _poll_until(second_tab, "Training", timeout=30)
        assert app.studio.manager.cancel(second)
    finally:
        assert "Stopping" in client.predict("en", api_name="/stop_training")
        assert app.studio.manager.wait(first, timeout=60)
    assert "Stopped" in _poll_until(client, "Stopped", timeout=20)
    assert app.studio.find_run(second).state == "cancelled"


def test_failures_are_sentences_and_the_app_keeps_serving(studio_app, client, tiny_model_dir, tmp_path):
    binary = tmp_path / "table.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    report = client.predict(handle_file(str(binary)), None, None, "", str(tiny_model_dir), 128, "en",
                            api_name="/upload_data")[1]
    assert "⛔" in report and "binary" in report

    message, run_id, *_ = client.predict(*_settings(tiny_model_dir), api_name="/start_training")
    assert not isinstance(run_id, str) and message.startswith("⛔")  # no run id: the page keeps what it shows

    (tmp_path / "not-a-model").mkdir()
    described = client.predict(str(tmp_path / "not-a-model"), "full", 0, 8, "en", api_name="/describe_model")
    assert described.startswith("⛔") and "config.json" in described

    scores, message = client.predict(None, "hello", "en", api_name="/classify")
    assert "Pick a finished run" in message

    # Still serving: the sample loads as before.
    assert "368 rows" in client.predict(None, None, str(tiny_model_dir), 128, "en", api_name="/load_sample")[1]
