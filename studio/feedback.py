"""The demo's "was this right?" answers, one JSON object a line in RUN_DIR/feedback.jsonl."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

FEEDBACK_FILE = "feedback.jsonl"
VERDICTS = ("right", "wrong")
MAX_TEXT_CHARS = 5000
MAX_FILE_BYTES = 20 * 1024 * 1024   # a public page must not be able to fill the disk

_lock = threading.Lock()


class FeedbackError(ValueError):
    """Feedback that cannot be recorded; the message says why."""


def append(run_dir: str | Path, text: str, predicted: str, verdict: str, correct: str | None = None,
           labels: list[str] | None = None) -> dict[str, Any]:
    """Record one answer and return it. `labels`, when given, are the only accepted correct labels."""
    if verdict not in VERDICTS:
        raise FeedbackError("Say whether the answer was right or wrong.")
    if not (text or "").strip() or not predicted:
        raise FeedbackError("Classify a text first, then say whether the answer was right.")
    correct = (correct or None) if verdict == "wrong" else predicted
    if correct is not None and labels is not None and correct not in labels:
        raise FeedbackError(f"{correct!r} is not one of this model's labels.")
    path = Path(run_dir) / FEEDBACK_FILE
    if path.exists() and path.stat().st_size > MAX_FILE_BYTES:
        raise FeedbackError("This demo has collected as much feedback as it can keep; thank you.")
    record = {"time": round(time.time(), 3), "text": text[:MAX_TEXT_CHARS], "predicted": predicted,
              "verdict": verdict, "correct_label": correct}
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record


def read(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / FEEDBACK_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash: skip it
    return records
