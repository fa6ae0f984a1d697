#!/usr/bin/env bash
# Create .venv and install the studio into it. Idempotent: a second run only checks.
# EXTRAS="[test,bench]" adds optional dependencies (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and exactly: on these machines torch==2.13.0 is the CPU build that lies on disk, while the package
# asks only for a range (which pip would fill with a multi-GB CUDA build). A torch already in .venv is kept:
# that is how a GPU user brings the CUDA build (see README).
if ! .venv/bin/python -m pip show -q torch >/dev/null 2>&1; then
    .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q -e ".${EXTRAS:-}"
