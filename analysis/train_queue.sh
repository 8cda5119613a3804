#!/usr/bin/env bash
# Train a queue of zoo runs one after another, resuming any that was interrupted.
#
#   bash analysis/train_queue.sh RUNS_DIR "NAME:ZOO TRAIN ARGS" ["NAME:ARGS" ...]
#
# Each run lives in RUNS_DIR/NAME. A run with final.json is finished and skipped; one with
# last.pt is resumed (--resume, its stored options); any other starts fresh. Kill the script
# at any time: the next call continues where it stopped (checkpoints are written every epoch).
# Several queues may share runs: a run another queue is training (its lock is held) is skipped.
# Threads per run: ZOO_THREADS (default 1; queues side by side on a 2-core machine).
# ZOO_COMPILE=1 trains with torch.compile (about +17% images/s for RAM/MRAM on the CPU, see
# benchmarks/README.md; 30-60 s of compilation per start; same random draws as eager).
# ZOO_SNAPSHOT_EVERY=N keeps the weights every N epochs in RUNS_DIR/NAME/snapshots/ (for
# analysis/emergence.py); it may be switched on when a run is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=$1; shift
python=${PYTHON:-.venv/bin/python}
threads=${ZOO_THREADS:-1}
compile=$([[ ${ZOO_COMPILE:-0} == 1 ]] && echo --compile || echo --no-compile)
snapshots=${ZOO_SNAPSHOT_EVERY:+--snapshot-every $ZOO_SNAPSHOT_EVERY}
for spec in "$@"; do
    name=${spec%%:*}; args=${spec#*:}
    dir=$runs/$name
    if [[ -f $dir/final.json ]]; then echo "[$name] finished, skipped"; continue; fi
    mkdir -p "$runs"
    exec 9>"$runs/.$name.lock"
    if ! flock -n 9; then echo "[$name] trained by another queue, skipped"; continue; fi
    echo "[$name] $(date -u +%FT%TZ) start"
    if [[ -f $dir/last.pt ]]; then
        # shellcheck disable=SC2086
        $python -m zoo.train --resume --out "$dir" --num-threads "$threads" $compile $snapshots
    else
        # shellcheck disable=SC2086
        $python -m zoo.train $args --out "$dir" --num-threads "$threads" $compile $snapshots
    fi
    echo "[$name] $(date -u +%FT%TZ) done"
    exec 9>&-
done
