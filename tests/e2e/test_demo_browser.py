"""The public demo in a real browser: a Chinese browser gets the page, its answers and its feedback in Chinese,
an English one in English. Screenshots in tests/e2e/screenshots/demo-*.png."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from studio import sharing
from studio.ui import demo

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parent / "screenshots"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def demo_url(chromium_path, tiny_run_dir, tmp_path_factory):
    target = tmp_path_factory.mktemp("demo-browser") / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, target)
    blocks = demo.start(demo.parse_args([str(target), "--port", str(sharing.free_port()),
                                         "--example", "I love it"]), say=lambda _: None)
    yield blocks.local_url
    blocks.close(verbose=False)


def _wait_for_text(page, selector: str, timeout: int = 30_000) -> str:
    """The element's text once a handler wrote it (Gradio's own progress timer shows there until then)."""
    page.wait_for_function("(s) => { const e = document.querySelector(s); const t = e && e.innerText.trim(); "
                           "return t && !/processing|\\d+(\\.\\d+)?s$/.test(t); }", arg=selector, timeout=timeout)
    return page.inner_text(selector)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_demo_speaks_the_browsers_language(demo_url, browser, locale):
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale=locale)
    page.goto(demo_url)
    page.wait_for_selector("#demo-title")
    chinese = locale == "zh-CN"
    words = ("分类", "提交反馈", "结果对吗", "关于这个模型") if chinese else ("Classify", "Send feedback",
                                                                   "Was this right?", "About this model")
    for word in words:
        page.get_by_text(word, exact=False).first.wait_for(timeout=30_000)
    assert "Tiny reviews" in page.inner_text("#demo-title")   # the run's name as the user wrote it
    page.locator("textarea").first.fill("I love it, great quality")
    page.get_by_role("button", name="分类" if chinese else "Classify", exact=True).click()
    answer = _wait_for_text(page, "#demo-answer")
    assert bool(CJK.search(answer)) == chinese, answer
    page.get_by_text("不对，错了" if chinese else "No, wrong", exact=True).click()
    page.get_by_role("button", name="提交反馈" if chinese else "Send feedback").click()
    thanks = _wait_for_text(page, "#demo-thanks")
    assert thanks.startswith("谢谢" if chinese else "Thank you"), thanks
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"demo-{locale}.png"), full_page=True)
    page.close()
