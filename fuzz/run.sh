#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time: `fuzz/run.sh [SECONDS] [TARGET…]`
# (default 15 s each, every target). Needs the nightly toolchain and cargo-fuzz.
# Prints one line per target: inputs run, corpus size, result. Exits non-zero on a crash,
# leaving the reproducer in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-15}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
# No sanitizer: our crates forbid `unsafe`; debug assertions on, so overflows are crashes.
flags=(--sanitizer none --debug-assertions)
cargo +nightly fuzz build "${flags[@]}"
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  dirs=("corpus/$target")
  [ -d "seeds/$target" ] && dirs+=("seeds/$target")
  log=$(mktemp)
  if cargo +nightly fuzz run "${flags[@]}" "$target" "${dirs[@]}" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz $target: ok, $runs inputs in ${seconds} s, corpus $(ls "corpus/$target" | wc -l)"
  else
    echo "fuzz $target: FAILED"
    tail -n 40 "$log"
    status=1
  fi
  rm -f "$log"
done
exit $status
