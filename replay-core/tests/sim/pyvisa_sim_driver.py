"""Runs command sequences through pyvisa-sim and prints what each command answered.

Input (stdin, JSON):
    {"file": "/abs/devices.yaml",
     "sequences": [{"resource": "ASRL1::INSTR", "commands": ["*IDN?", ...]}, ...]}

Output (stdout, JSON): one list per sequence, one object per command:
    {"reads": ["<hex of each reply, terminator included>", ...], "error": false}

Each sequence starts from a freshly loaded file (fresh device state). A command is
written with the query terminator of the resource's interface; then reads are made until
nothing is queued (a read ends at END, the end of one reply, or on a serial resource at a
line feed). "error" is true when
pyvisa-sim raised while processing the command.

Used by replay-core/tests/sim_conformance.rs; needs `pyvisa` and `pyvisa-sim`.
"""

import json
import sys

import pyvisa
from pyvisa_sim import parser


def main() -> None:
    request = json.load(sys.stdin)
    path = request["file"]
    rm = pyvisa.ResourceManager(f"{path}@sim")
    results = []
    for sequence in request["sequences"]:
        # A fresh device per sequence: reload the definitions.
        rm.visalib.devices = parser.get_devices(path, False)
        inst = rm.open_resource(sequence["resource"])
        inst.timeout = 200
        inst.read_termination = None
        inst.write_termination = ""
        device = rm.visalib.sessions[inst.session].device
        eom = device._query_eom
        answers = []
        for command in sequence["commands"]:
            error = False
            try:
                inst.write_raw(command.encode("utf-8") + eom)
            except Exception:  # noqa: BLE001 - any exception is what we compare
                error = True
            reads = []
            while device._output_buffers:
                reads.append(inst.read_raw().hex())
            answers.append({"reads": reads, "error": error})
        inst.close()
        results.append(answers)
    rm.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
