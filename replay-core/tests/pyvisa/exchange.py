"""Talks to instruments through pyvisa-py and prints what they answered, as JSON.

Used by replay-core/tests/pyvisa_conformance.rs (pyvisa-py as a client of our VXI-11,
HiSLIP and raw-socket servers) and, with --time, to measure round-trip latency:

    python3 exchange.py RESOURCE...            # run the conformance script on each
    python3 exchange.py --time N RESOURCE...   # N `*IDN?` queries each, print the median µs
"""

import json
import statistics
import sys
import time

import pyvisa


def open_resource(rm, resource):
    inst = rm.open_resource(resource, read_termination="\n", write_termination="\n")
    inst.timeout = 5000
    return inst


def script(inst, resource):
    """The same sequence on every resource; returns what came back."""
    answers = []
    answers.append(inst.query("*IDN?"))
    inst.write("VOLT 1.25")
    answers.append(inst.query("VOLT?"))
    inst.write("VOLT 7")
    answers.append(inst.query("VOLT?"))
    block = inst.query_binary_values("WAV?", datatype="B", container=bytes)
    answers.append(block.hex())
    if "SOCKET" not in resource.upper():
        # Status byte and device clear exist on VXI-11 and HiSLIP only.
        answers.append(inst.read_stb())
        inst.clear()
        answers.append(inst.query("*IDN?"))
    return answers


def main(argv):
    rm = pyvisa.ResourceManager("@py")
    if argv and argv[0] == "--time":
        count = int(argv[1])
        result = {}
        for resource in argv[2:]:
            inst = open_resource(rm, resource)
            inst.query("*IDN?")  # warm up
            times = []
            for _ in range(count):
                start = time.perf_counter()
                inst.query("*IDN?")
                times.append(time.perf_counter() - start)
            result[resource] = round(statistics.median(times) * 1e6, 1)
            inst.close()
        print(json.dumps(result))
        return
    result = {}
    for resource in argv:
        inst = open_resource(rm, resource)
        result[resource] = script(inst, resource)
        inst.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
