"""Load and replay a session with PyTestLab 0.2.4's ReplayBackend, for comparison.

    python3 -m venv /tmp/ptl && /tmp/ptl/bin/pip install pytestlab==0.2.4
    /tmp/ptl/bin/python replay-core/benches/support/pytestlab_replay.py /tmp/session_100k.yaml

PyTestLab opens one ReplayBackend per instrument and each one parses the whole file with
`yaml.safe_load`. This script times one plain `yaml.safe_load`, then the backends of every
instrument replaying their logs, with wall and CPU time (on a busy machine the CPU time
is the fairer figure), and prints the peak RSS of the process (ru_maxrss).
"""

import resource
import sys
import time

import yaml
from pytestlab.instruments.backends.replay_backend import ReplayBackend


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    path = sys.argv[1]
    start, cpu = time.perf_counter(), time.process_time()
    with open(path) as f:
        data = yaml.safe_load(f)
    load, load_cpu = time.perf_counter() - start, time.process_time() - cpu
    count = sum(len(inst.get("log", [])) for inst in data.values())
    print(
        f"yaml.safe_load: {count} interactions in {load:.2f} s ({load_cpu:.2f} s CPU), "
        f"peak RSS {peak_mib():.0f} MiB"
    )
    aliases = list(data)
    del data

    start, cpu = time.perf_counter(), time.process_time()
    replayed = 0
    for alias in aliases:
        backend = ReplayBackend(path, alias)
        for entry in list(backend._log):
            kind, command = entry["type"], entry.get("command", "")
            if kind == "write":
                backend.write(command)
            elif kind == "query":
                backend.query(command)
            elif kind == "query_raw":
                backend.query_raw(command)
            replayed += 1
        del backend
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"ReplayBackend x{len(aliases)} (one per instrument): {replayed} interactions "
        f"loaded and replayed in {total:.2f} s ({total_cpu:.2f} s CPU), "
        f"peak RSS {peak_mib():.0f} MiB"
    )


if __name__ == "__main__":
    main()
