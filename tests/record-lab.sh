#!/bin/sh
# Records the harness suite (tests/tests/lab.rs, `harness = false`) with its snapshots:
# tests/record.sh lab. Extra arguments go to the harness, e.g. tests/record-lab.sh --exact psu::ramp
exec "$(dirname "$0")/record.sh" lab "$@"
