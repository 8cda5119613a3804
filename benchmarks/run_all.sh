#!/usr/bin/env bash
# Run every speed benchmark of benchmarks/ and print their Markdown reports.
#
#   benchmarks/run_all.sh [--quick] [--save DIR] [ZOO OPTIONS...]
#
# Full run (the figures of benchmarks/README.md, one sitting on an otherwise idle machine):
# 5 interleaved rounds of everything, the peer RAM beside every zoo case, float32 and bfloat16,
# torch.compile variants, the training profile, gazekit analyze at 12M rows and MultiMatch
# against multimatch-gaze (when ../shared has its data). About 15 minutes on 2 idle cores.
# --quick      2 rounds, no torch.compile variants, bf16 or profile, gazekit analyze on 1.2M
#              rows: a smoke run of minutes.
# --save DIR   also keep each report as DIR/<benchmark>.md (written when it completes).
# ZOO OPTIONS  passed to the three zoo benchmarks (train, sensor, inference), e.g.
#              --threads 1 or --devices cpu; the others take their own defaults.
# The interpreter is $PYTHON, else .venv/bin/python when present, else python.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${PYTHON:-}" ]]; then py=$PYTHON
elif [[ -x .venv/bin/python ]]; then py=.venv/bin/python
else py=python
fi

quick=0
save=
zoo_args=()
while (( $# )); do
    case $1 in
        --quick) quick=1 ;;
        --save) save=${2:?--save needs a folder}; shift ;;
        *) zoo_args+=("$1") ;;
    esac
    shift
done
if (( quick )); then
    train=(--repeats 2 --min-time 0.1)
    sensor=(--repeats 2 --min-time 0.1)
    inference=(--repeats 2 --min-time 0.1 --latency-images 50)
    analyze=(--quick)
    similarity=(--rounds 2)
else
    train=(--models cnn ram dram mram --precision fp32 bf16 --compile --profile --repeats 5)
    sensor=(--repeats 5)
    inference=(--dtypes float32 bfloat16 --compile --repeats 5)
    analyze=(--repeats 5)
    similarity=(--rounds 5)
fi

run() {  # run NAME COMMAND...: print the report, and keep it as $save/NAME.md when asked
    local name=$1; shift
    if [[ -z $save ]]; then "$@"; return; fi
    mkdir -p "$save"
    local partial=$save/.$name.md.partial
    if ! "$@" | tee "$partial"; then rm -f "$partial"; return 1; fi
    mv "$partial" "$save/$name.md"
}

run train "$py" benchmarks/bench_train.py "${train[@]}" "${zoo_args[@]}"
run sensor "$py" benchmarks/bench_sensor.py "${sensor[@]}" "${zoo_args[@]}"
run inference "$py" benchmarks/bench_inference.py "${inference[@]}" "${zoo_args[@]}"
run analyze "$py" benchmarks/bench_analyze.py "${analyze[@]}"
if [[ -d ../shared/data/human/studyforrest-fixvectors ]]; then
    run similarity "$py" benchmarks/bench_similarity.py "${similarity[@]}"
else
    echo "bench_similarity.py skipped: it needs ../shared/data/human/studyforrest-fixvectors"
fi
