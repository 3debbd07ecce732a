#!/bin/sh
# Records the harness suite (tests/tests/lab.rs, `harness = false`) against the simulated
# bench, into sessions/replay-tests/lab/, with its snapshots (`<test>@<name>.snap`).
# Extra arguments go to the harness, e.g. one test: tests/record-lab.sh --exact psu::ramp
set -eu
cd "$(dirname "$0")/.."
log=$(mktemp)
cargo build -q -p replay-tests --bin sim-bench
cargo run -q -p replay-tests --bin sim-bench -- \
    --port-base 47310 --seed 42 --config tests/bench.yaml >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; rm -f "$log"' EXIT
until grep -q '^serving' "$log"; do
    if ! kill -0 $sim 2>/dev/null; then cat "$log"; exit 1; fi
    sleep 0.1
done
RECORD=1 cargo test -p replay-tests --test lab -- --test-threads=1 "$@"
