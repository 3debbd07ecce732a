#!/bin/sh
# Records the project's own `#[recorded_test]` suite (tests/tests/recorded_bench.rs):
# tests/record.sh recorded_bench. Extra arguments go to the test binary, e.g. one test:
# tests/record-sessions.sh psu_output_follows_setpoint
exec "$(dirname "$0")/record.sh" recorded_bench "$@"
