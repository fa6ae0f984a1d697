"""The studio in a real browser: Debian's Chromium driven by Playwright.

Sample data in, a short training on a tiny model, live curves, the playground, a reload that
finds the finished run, and a screenshot of every tab in tests/e2e/screenshots/.
Chromium comes from `bash scripts/install_browser.sh`; without it the test skips.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from studio.sharing import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
TRAINING_TIMEOUT_MS = 150_000


@pytest.fixture(scope="module")
def studio_url(chromium_path, tmp_path_factory, tiny_model_dir):
    """`python launch.py` in a subprocess, on a free port, with the tiny model pre-selected."""
    port = free_port()
    runs = tmp_path_factory.mktemp("e2e-runs")
    log = open(tmp_path_factory.mktemp("e2e-log") / "studio.log", "w")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "launch.py", "--port", str(port), "--runs-dir", str(runs),
                               "--default-model", str(tiny_model_dir)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the studio exited with code {server.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"the studio did not answer on {url} within 90 s; see {log.name}")
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()


def _open_tab(page, name: str) -> None:
    page.click(f"#tab-{name}-button")
    page.wait_for_selector(f"#tab-{name}-button[aria-selected=true]")
    page.wait_for_selector(f"#tab-{name}", state="visible")


def _text_has(page, selector: str, text: str, timeout: int = 30_000) -> None:
    """Wait until the element's text holds `text` (a waiting assertion, not a fixed sleep)."""
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
                           arg=[selector, text], timeout=timeout)


def _page_loaded(page) -> None:
    """The page's load event has landed (it fills the Model and Runs tabs and marks the title)."""
    page.wait_for_selector("#data-sample")
    page.wait_for_selector("#studio-title.studio-loaded", state="attached", timeout=30_000)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def chinese_csv(tmp_path_factory):
    import csv
    path = tmp_path_factory.mktemp("zh") / "waimai.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "label"])
        for i in range(30):
            writer.writerow([f"送餐很快，味道不错（{i}）", 1])
            writer.writerow([f"太难吃了，再也不点了（{i}）", 0])
    return path


def test_sample_data_to_a_classifier_in_the_browser(studio_url, browser, chinese_csv):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.goto(studio_url)
    _page_loaded(page)

    # 1. Data: upload the sample CSV; the report, the detected columns.
    page.set_input_files("#data-upload input[type=file]", str(ROOT / "studio" / "assets" / "sample_support_tickets.csv"))
    page.wait_for_function("document.querySelector('#data-report').innerText.includes('368 rows')")
    assert "category" in page.input_value("#label-column input")
    assert "text" in page.input_value("#text-column input")
    page.wait_for_selector("#data-distribution .barlayer")  # the label-count chart is drawn
    _shot(page, "1-data")

    # 2. Model: the tiny model is pre-selected; freezing a layer changes the trainable share live.
    _open_tab(page, "model")
    page.wait_for_function("document.querySelector('#trainable-params').innerText.includes('%')")
    full_share = page.inner_text("#trainable-params")
    page.get_by_label("Freeze bottom layers").check()
    page.wait_for_selector("#freeze-depth", state="visible")
    page.wait_for_function("(full) => { const t = document.querySelector('#trainable-params').innerText; "
                           "return t.includes('%') && t !== full; }", arg=full_share)
    page.get_by_label("Full fine-tuning").check()
    page.get_by_label("Quick").check()
    page.click("#advanced")
    page.fill("#learning-rate input", "0.005")
    page.fill("#epochs input", "3")
    page.click("#model-estimate")  # leaving the field commits it
    page.wait_for_function("document.querySelector('#model-estimate').innerText.includes('3 epochs')")
    _shot(page, "2-model")

    # The picker says which models can be used now; the glossary explains the words.
    labels = page.eval_on_selector("#model-choice", "e => e.innerText") + page.input_value("#model-choice input")
    assert "folder on this machine" in labels
    page.click("#model-glossary")
    _text_has(page, "#model-glossary", "[UNK]")

    # 3. Train: start (a double click queues one run), watch the loss curve fill in, wait for the end.
    _open_tab(page, "train")
    page.fill("#run-name textarea", "browser test <b>not bold</b>")
    page.dblclick("#train-start")
    page.wait_for_function("document.querySelectorAll('#loss-plot .scatterlayer .trace').length > 0",
                           timeout=TRAINING_TIMEOUT_MS)
    page.wait_for_function("document.querySelector('#train-status').innerText.includes('Finished')",
                           timeout=TRAINING_TIMEOUT_MS)
    page.wait_for_function("document.querySelectorAll('#metric-plot .scatterlayer .trace').length > 0")
    assert 'data-state="finished"' in page.inner_html("#train-progress")
    assert "<b>not bold</b>" in page.inner_text("#train-status")  # a name with markup reads as typed
    assert page.locator("#train-status b", has_text="not bold").count() == 0
    # the run shown is named: the picker follows the run's key, one event after the status line
    page.wait_for_function("document.querySelector('#train-shown-run input').value.includes('browser test')",
                           timeout=15_000)
    _shot(page, "3-train")

    # 4. Evaluate: metrics, confusion matrix, the summary.
    _open_tab(page, "evaluate")
    page.wait_for_function("document.querySelector('#eval-metrics').innerText.includes('Accuracy')")
    page.wait_for_selector("#eval-confusion .heatmaplayer, #eval-confusion .main-svg")
    _shot(page, "4-evaluate")

    # 5. Playground: the finished run is picked; Enter classifies.
    _open_tab(page, "playground")
    page.wait_for_function("document.querySelector('#playground-run input').value.includes('browser test')")
    page.fill("#playground-text textarea", "I was charged twice for my order")
    page.locator("#playground-text textarea").press("Enter")
    page.wait_for_function("document.querySelector('#playground-message').innerText.includes('sure')")
    _text_has(page, "#playground-message", "not its accuracy")
    labels = {"billing", "technical_issue", "shipping", "account_access", "refund_request", "product_question"}
    assert any(label in page.inner_text("#playground-output") for label in labels)
    _shot(page, "5-playground")

    # Runs: the table lists the run, once (the double click queued one run only).
    _open_tab(page, "runs")
    page.wait_for_function("document.querySelector('#runs-table').innerText.includes('browser test')")
    assert page.inner_text("#runs-table").count("browser test") == 1
    _shot(page, "6-runs")

    # A reload re-attaches to the finished run.
    page.reload()
    _page_loaded(page)
    _open_tab(page, "train")
    page.wait_for_function("document.querySelector('#train-status').innerText.includes('Finished')", timeout=20_000)
    assert "browser test" in page.inner_text("#train-status")
    page.wait_for_function("document.querySelectorAll('#loss-plot .scatterlayer .trace').length > 0")

    # The language switch: the page in Simplified Chinese, then back.
    page.get_by_label("中文").check()
    page.wait_for_function("document.querySelector('#train-status').innerText.includes('已完成')")
    page.wait_for_function("document.querySelector('#tab-train-button').innerText.includes('训练')")
    _text_has(page, "#train-device", "个线程")  # the device in Chinese too
    _shot(page, "7-train-zh")

    # A Chinese file with the English vocabulary: never "ready", and Start says why, in Chinese.
    _open_tab(page, "data")
    page.set_input_files("#data-upload input[type=file]", str(chinese_csv))
    _text_has(page, "#data-report", "还不能训练")
    assert "可以训练了" not in page.inner_text("#data-report")
    _shot(page, "8-data-zh-unreadable")
    _open_tab(page, "model")
    _text_has(page, "#model-note", "读不懂你数据的语言")
    _shot(page, "9-model-zh-unreadable")
    _open_tab(page, "train")
    page.click("#train-start")
    _text_has(page, "#train-message", "读不懂你数据的语言")
    page.get_by_label("English").check()
    page.wait_for_function("document.querySelector('#tab-train-button').innerText.includes('Train')")

    # Runs: pick the run by clicking its row, zip its model, delete it after confirming.
    _open_tab(page, "runs")
    page.locator("#runs-table").get_by_role("gridcell", name="browser test").first.click()
    page.wait_for_function("document.querySelector('#runs-selected input').value.length > 10")
    page.click("#runs-zip")
    page.wait_for_function("document.querySelector('#runs-message').innerText.includes('pipeline')")
    assert page.locator("#runs-download a").count() >= 1
    page.click("#runs-delete")
    page.wait_for_selector("#runs-confirm-delete", state="visible")
    page.click("#runs-confirm-delete")
    page.wait_for_function("document.querySelector('#runs-message').innerText.includes('Deleted')")
    assert "browser test" not in page.inner_text("#runs-table")
    page.close()


def test_stop_then_start_again_with_the_same_settings(studio_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.goto(studio_url)
    _page_loaded(page)
    page.click("#data-sample")
    _text_has(page, "#data-report", "368 rows")
    _open_tab(page, "model")
    page.get_by_label("Full fine-tuning").check()
    page.click("#advanced")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    # The method's preset values can land after the fill on a loaded machine and put the preset's epochs
    # back; then the user's edit is made again, as a user would.
    for attempt in range(3):
        page.fill("#epochs input", "200")
        page.click("#model-estimate")  # leaving the field commits it
        try:
            _text_has(page, "#model-estimate", "200 epochs", timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.fill("#patience input", "0")  # no early stop: each run trains until it is stopped
    page.click("#model-estimate")
    _open_tab(page, "train")
    page.fill("#run-name textarea", "to stop")
    page.click("#train-start")
    page.wait_for_selector("#train-stop", state="visible", timeout=60_000)
    assert page.locator("#train-stop-keep").is_visible()  # both ways to stop are offered while it trains
    page.click("#train-stop")
    _text_has(page, "#train-message", "Stopping")
    _text_has(page, "#train-status", "Stopped", timeout=60_000)
    page.wait_for_selector("#train-restart", state="visible")
    _shot(page, "10-train-stopped")
    page.click("#train-restart")
    _text_has(page, "#train-message", "with the settings of")
    page.wait_for_selector("#train-stop", state="visible", timeout=60_000)
    page.click("#train-stop")
    _text_has(page, "#train-status", "Stopped", timeout=60_000)
    page.close()
