#!/usr/bin/env bash
# Set up a virtual environment (CPU build of torch, gazekit with its zoo and dev extras) and
# run lint and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[zoo,dev]"
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 -q
