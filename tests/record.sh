#!/bin/sh
# Records one test target of replay-tests against the simulated bench:
#
#     tests/record.sh recorded_bench                               # the `#[recorded_test]` suite
#     tests/record.sh recorded_bench psu_output_follows_setpoint   # one of its tests
#     tests/record.sh lab                                          # the harness suite
#     tests/record.sh lab --exact psu::ramp                        # one harness test
#
# Arguments after the target go to the test binary. The simulator serves tests/bench.yaml's
# fixed ports (47310-47312) with noise seed 42; the target runs on one thread so the noise
# streams are drawn in the same order every time. Cassettes (and snapshots) go under
# sessions/replay-tests/<target>/.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: tests/record.sh <target> [test-binary arguments…]  (targets: recorded_bench, lab)" >&2
    exit 2
fi
target=$1
shift
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
RECORD=1 cargo test -p replay-tests --test "$target" -- --test-threads=1 "$@"
