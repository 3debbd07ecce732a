#!/bin/sh
# Records the project's own `#[recorded_test]` suite (tests/tests/recorded_bench.rs) against
# the simulated bench, into sessions/replay-tests/. Extra arguments go to the test binary,
# e.g. a test name to re-record only that test:
#
#     tests/record-sessions.sh                               # the whole suite
#     tests/record-sessions.sh psu_output_follows_setpoint   # one test
#
# The simulator serves tests/bench.yaml's fixed ports (47310-47312) with noise seed 42; the
# suite runs on one thread so the noise streams are drawn in the same order every time.
set -eu
cd "$(dirname "$0")/.."
log=$(mktemp)
cargo build -q -p replay-tests --bin sim-bench
cargo run -q -p replay-tests --bin sim-bench -- \
    --port-base 47310 --seed 42 --config tests/bench.yaml >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; rm -f "$log"' EXIT
# Wait until it listens (it prints `serving` once every port is bound).
until grep -q '^serving' "$log"; do
    if ! kill -0 $sim 2>/dev/null; then cat "$log"; exit 1; fi
    sleep 0.1
done
RECORD=1 cargo test -p replay-tests --test recorded_bench -- --test-threads=1 "$@"
