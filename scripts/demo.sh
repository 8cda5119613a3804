#!/usr/bin/env bash
# Set up a virtual environment (CPU build of torch) and run the embedded demo analysis.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e .
.venv/bin/gazekit demo --out gazekit-demo
