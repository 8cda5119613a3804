#!/usr/bin/env bash
# Set up a virtual environment (CPU build of torch), export the glimpse scanpaths of the
# shipped pretrained models (on the first 1,000 Fashion-MNIST test images where installed, else
# on the example images shipped with the package) and analyse them with gazekit: figures and
# tables land in zoo-demo/, the summary is printed. Arguments go to analysis/demo_models.py
# (e.g. --limit 0 for the whole test set).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[zoo]"
.venv/bin/python analysis/demo_models.py --out zoo-demo --overwrite "$@"
