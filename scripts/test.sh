#!/usr/bin/env bash
# One command: set up (virtualenv, packages, Debian's Chromium for the browser test), then run every test.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="[test,bench,tracking,onnx]" bash scripts/setup.sh
bash scripts/install_browser.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
