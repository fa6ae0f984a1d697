#!/usr/bin/env bash
# One command: set up, then start the studio on http://127.0.0.1:7860 (extra arguments go to launch.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python launch.py "$@"
