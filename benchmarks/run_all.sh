#!/usr/bin/env bash
# Run every benchmark of benchmarks/ and print their Markdown reports.
#
#   benchmarks/run_all.sh [--quick] [ZOO OPTIONS...]
#
# --quick      fewer rounds, no torch.compile variants or profile, and gazekit analyze with
#              its --quick option (or on 1.2M rows instead of 12M): a smoke run of minutes.
# ZOO OPTIONS  passed to the three zoo benchmarks (train, sensor, inference), e.g.
#              --threads 1 or --devices cpu; bench_analyze.py takes its own defaults.
# The interpreter is $PYTHON, else .venv/bin/python when present, else python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${PYTHON:-}" ]]; then py=$PYTHON
elif [[ -x .venv/bin/python ]]; then py=.venv/bin/python
else py=python
fi

quick=0
zoo_args=()
for arg in "$@"; do
    if [[ $arg == --quick ]]; then quick=1; else zoo_args+=("$arg"); fi
done
if (( quick )); then
    train=(--repeats 2 --min-time 0.1)
    sensor=(--repeats 2 --min-time 0.1)
    inference=(--repeats 2 --min-time 0.1 --latency-images 50)
    # bench_analyze.py's own --quick where it has one, else a smaller input
    if [[ $("$py" benchmarks/bench_analyze.py --help) == *--quick* ]]; then analyze=(--quick)
    else analyze=(--rows 1200000 --repeats 1 --subsample 5000)
    fi
else
    train=(--compile --profile)
    sensor=()
    inference=(--compile)
    analyze=()
fi

"$py" benchmarks/bench_train.py "${train[@]}" "${zoo_args[@]}"
"$py" benchmarks/bench_sensor.py "${sensor[@]}" "${zoo_args[@]}"
"$py" benchmarks/bench_inference.py "${inference[@]}" "${zoo_args[@]}"
"$py" benchmarks/bench_analyze.py "${analyze[@]}"
