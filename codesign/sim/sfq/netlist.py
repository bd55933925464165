"""SFQ netlists: cells joined by named wires, with a small JSON format and a strict checker.

JSON format (`"format": "codesign-sfq-netlist"`, version 1)::

    {
      "format": "codesign-sfq-netlist", "version": 1, "name": "and_demo",
      "inputs":  ["a", "b", "clk"],          # wires driven from outside (stimuli)
      "outputs": ["q"],                      # wires whose pulses are recorded
      "cells": [
        {"name": "g0", "type": "AND",
         "in":  {"a": "a", "b": "b", "clk": "clk"},   # port -> wire
         "out": {"q": "q"},                           # port -> wire
         "params": {}}                                # optional, see below
      ]
    }

Rules (SFQ pulses cannot fork or join on a bare wire): every wire has exactly one driver (a
netlist input or one cell output) and at most one sink (one cell input); fan-out needs SPL
cells, fan-in needs MRG cells (or a neuron's many inputs). A wire with no sink must be listed
in `outputs`; an output wire may also have a sink (it is then a probe). Cell inputs may be left
unconnected (they never receive a pulse); outputs may be left unconnected (pulses are lost).

Common params: `delay`, `setup`, `hold` (ps), `jjs`, `bias_fraction`, `drive_fraction`.
SYN: `weight` (int, signed). IFN: `n_in`, `threshold`, `preload`, `lo`, `hi`, `rounding`,
`refractory` (ps), `bias_fraction` (see neuro.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from codesign.atomic import write_json
from codesign.errors import CodesignError
from codesign.sim.sfq.cells import cell_type, input_ports

FORMAT = "codesign-sfq-netlist"
VERSION = 1

# cell parameters that are physical amounts (ps, junction counts, fractions): numbers >= 0
# A cell amount beyond this (a delay of 1 s, 10^12 JJs) is no SFQ cell
# and would overflow the engine's integer femtosecond clock.
MAX_AMOUNT = 1e12
MAX_IFN_INPUTS = 1 << 20  # a neuron's fan-in; each input is a port the engine allocates
AMOUNTS = ("delay", "setup", "hold", "jjs", "bias_fraction", "drive_fraction")


@dataclass
class Cell:
    """One cell instance: its type name, port -> wire maps and per-instance parameters."""

    name: str
    type: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    params: dict = field(default_factory=dict)


@dataclass
class Netlist:
    """A flat SFQ netlist; build it with `add`, check it with `validate`."""

    name: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)

    def add(self, type_: str, name: str, inputs: dict, outputs: dict, **params) -> Cell:
        """Append a cell (no checks until `validate`) and return it."""
        c = Cell(name, type_, dict(inputs), dict(outputs), dict(params))
        self.cells.append(c)
        return c

    def cell(self, name: str) -> Cell:
        for c in self.cells:
            if c.name == name:
                return c
        raise CodesignError(f"netlist {self.name!r}: no cell named {name!r}")

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise CodesignError naming the wire or cell at fault; return None if sound."""
        drivers: dict[str, str] = {}
        sinks: dict[str, str] = {}
        sink_type: dict[str, str] = {}
        names: set[str] = set()
        for w in self.inputs:
            if w in drivers:
                raise CodesignError(f"wire {w!r} is listed twice as a netlist input")
            drivers[w] = "netlist input"
        for c in self.cells:
            if not c.name or c.name in names:
                raise CodesignError(f"cell {c.name!r}: duplicate or empty cell name")
            names.add(c.name)
            ct = cell_type(c.type, c.name)
            if c.type == "IFN":
                n_in = c.params.get("n_in")
                if not isinstance(n_in, int) or not 1 <= n_in <= MAX_IFN_INPUTS:
                    raise CodesignError(
                        f"cell {c.name!r}: IFN needs an integer n_in in 1..{MAX_IFN_INPUTS}"
                    )
            ports_in = input_ports(ct, c.params)
            for port, w in c.inputs.items():
                if port not in ports_in:
                    raise CodesignError(
                        f"cell {c.name!r} ({c.type}): unknown input port {port!r} "
                        f"(ports: {', '.join(ports_in)})"
                    )
                if w in sinks:
                    raise CodesignError(
                        f"wire {w!r} drives two inputs ({sinks[w]} and {c.name}.{port}): "
                        "fan-out > 1 needs a splitter (SPL)"
                    )
                sinks[w] = f"{c.name}.{port}"
                sink_type[w] = c.type
            for port, w in c.outputs.items():
                if port not in ct.outputs:
                    raise CodesignError(
                        f"cell {c.name!r} ({c.type}): unknown output port {port!r} "
                        f"(ports: {', '.join(ct.outputs)})"
                    )
                if w in drivers:
                    raise CodesignError(
                        f"wire {w!r} has two drivers ({drivers[w]} and {c.name}.{port}): "
                        "fan-in needs a merger (MRG)"
                    )
                drivers[w] = f"{c.name}.{port}"
            if c.type == "SYN":
                if not isinstance(c.params.get("weight", 1), int):
                    raise CodesignError(f"cell {c.name!r}: SYN weight must be an integer")
            for key in AMOUNTS:
                v = c.params.get(key)
                ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                if key in c.params and not (ok and 0 <= v <= MAX_AMOUNT):
                    raise CodesignError(
                        f"cell {c.name!r} ({c.type}): {key} {v!r} is not a number in "
                        f"0..{MAX_AMOUNT:g}"
                    )
        for w, s in sinks.items():
            if w not in drivers:
                raise CodesignError(f"dangling wire {w!r}: read by {s} but driven by nothing")
        outs = set(self.outputs)
        for w in self.outputs:
            if w not in drivers:
                raise CodesignError(f"dangling wire {w!r}: listed as an output, never driven")
        for w, d in drivers.items():
            if w not in sinks and w not in outs:
                raise CodesignError(
                    f"dangling wire {w!r}: driven by {d} but read by nothing and not an output"
                )
        # a SYN output may only feed a neuron input (its weight is a current into the soma)
        for c in self.cells:
            if c.type != "SYN":
                continue
            for port, w in c.outputs.items():
                s = sinks.get(w)
                if s is not None and sink_type[w] != "IFN":
                    raise CodesignError(
                        f"cell {c.name!r}: SYN output {port!r} (wire {w!r}) must feed an IFN "
                        f"input, not {s}"
                    )

    @property
    def jj_count(self) -> int:
        from codesign.sim.sfq.cells import cell_jjs

        return sum(cell_jjs(cell_type(c.type, c.name), c.params) for c in self.cells)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "cells": [
                {"name": c.name, "type": c.type, "in": c.inputs, "out": c.outputs}
                | ({"params": c.params} if c.params else {})
                for c in self.cells
            ],
        }

    def save(self, path: str | Path) -> None:
        """Write JSON atomically (temporary name, then rename)."""
        write_json(path, self.to_dict())


def from_dict(d: dict, where: str = "netlist") -> Netlist:
    """Build and validate a Netlist from its JSON dict."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CodesignError(f"{where}: not a {FORMAT} document (missing 'format')")
    if d.get("version") != VERSION:
        raise CodesignError(f"{where}: unsupported version {d.get('version')!r}")
    try:
        cells = [
            Cell(
                c["name"],
                c["type"],
                dict(c.get("in", {})),
                dict(c.get("out", {})),
                dict(c.get("params", {})),
            )
            for c in d["cells"]
        ]
        nl = Netlist(str(d.get("name", "netlist")), list(d["inputs"]), list(d["outputs"]), cells)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CodesignError(f"{where}: malformed netlist, missing field {e}") from None
    wires = [*nl.inputs, *nl.outputs]
    for c in nl.cells:
        wires += [*c.inputs.values(), *c.outputs.values(), *c.inputs, *c.outputs, c.name, c.type]
        if not all(isinstance(k, str) for k in c.params):
            raise CodesignError(f"{where}: cell {c.name!r} has a parameter name that is not text")
    bad = [w for w in wires if not isinstance(w, str)]  # (None itself can be the bad value)
    if bad:
        raise CodesignError(f"{where}: a wire, port, cell name or type is not text: {bad[0]!r}")
    nl.validate()
    return nl


def load(path: str | Path) -> Netlist:
    """Read a netlist JSON file; every problem is a CodesignError naming the file."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise CodesignError(f"netlist file {path!r} does not exist") from None
    except json.JSONDecodeError as e:
        raise CodesignError(f"netlist file {path!r}: invalid JSON ({e})") from None
    return from_dict(d, where=f"netlist file {path!r}")


def split_tree(nl: Netlist, src: str, sinks: list[str], prefix: str) -> None:
    """Fan `src` out to the wires in `sinks` with a balanced binary tree of SPL cells."""
    if len(sinks) == 1:
        _alias(nl, src, sinks[0], prefix)
        return
    half = len(sinks) // 2
    left = sinks[:half]
    right = sinks[half:]
    lw = left[0] if len(left) == 1 else f"{prefix}.l"
    rw = right[0] if len(right) == 1 else f"{prefix}.r"
    nl.add("SPL", f"{prefix}.s", {"a": src}, {"q0": lw, "q1": rw})
    if len(left) > 1:
        split_tree(nl, lw, left, f"{prefix}.l")
    if len(right) > 1:
        split_tree(nl, rw, right, f"{prefix}.r")


def _alias(nl: Netlist, src: str, dst: str, prefix: str) -> None:
    """Wires cannot be renamed: a one-sink 'tree' is a JTL stage."""
    nl.add("JTL", f"{prefix}.j", {"a": src}, {"q": dst})
