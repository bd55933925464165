"""Bit-toggle counts from a VCD trace (Verilator `--trace`), the switching activity for FPGA power.

Why VCD and not SAIF: the RTL runner (codesign/verify/runner.py) builds through cocotb's runner,
whose `waves=True` gives Verilator `--trace` (VCD) and no hook for `--trace-saif`; a VCD carries
the same information (every value change of every net), so we count toggles ourselves.

Counting: each VCD identifier is one physical net (aliases share it) of `width` bits; a change
counts the bits that differ from the net's previous value (x/z read as 0). The clock is left out
(its toggles are the clock tree's, priced in static/clock power) and cycles are its rising edges.
"""

from __future__ import annotations

from pathlib import Path

from codesign.errors import CodesignError


def _bits(v: str) -> int:
    return int(v.replace("x", "0").replace("z", "0").replace("X", "0").replace("Z", "0") or "0", 2)


def count_toggles(path: Path | str, clock: str = "clk") -> dict:
    """{'nets', 'bits', 'toggles', 'cycles', 'rate'} over the whole trace.

    rate = toggles / (bits x cycles): the mean probability that a net bit flips in a cycle.
    """
    p = Path(path)
    if not p.is_file():
        raise CodesignError(f"VCD trace {p} not found")
    width: dict[str, int] = {}
    clk_id = None
    prev: dict[str, int] = {}
    toggles = 0
    cycles = 0
    in_header = True
    with p.open() as f:
        for line in f:
            s = line.strip()
            if not s:
                continue
            if in_header:
                if s.startswith("$var"):
                    parts = s.split()
                    # $var wire <width> <id> <name> [range] $end
                    w, ident, name = int(parts[2]), parts[3], parts[4]
                    if name == clock and clk_id is None:
                        clk_id = ident
                    width.setdefault(ident, w)
                elif s.startswith("$enddefinitions"):
                    in_header = False
                continue
            c = s[0]
            if c in "#$":
                continue
            if c in "bB":
                val, ident = s[1:].split()
                v = _bits(val)
            elif c in "rR":
                continue  # real-valued: not a net
            else:
                v, ident = _bits(c), s[1:]
            if ident == clk_id:
                if v == 1 and prev.get(ident, 0) == 0:
                    cycles += 1
                prev[ident] = v
                continue
            old = prev.get(ident)
            if old is not None:
                toggles += (old ^ v).bit_count()
            prev[ident] = v
    if clk_id is None:
        raise CodesignError(f"VCD trace {p}: no clock net named '{clock}'")
    bits = sum(w for i, w in width.items() if i != clk_id)
    return {
        "nets": len(width) - 1,
        "bits": bits,
        "toggles": toggles,
        "cycles": cycles,
        "rate": toggles / (bits * cycles) if bits and cycles else 0.0,
    }
