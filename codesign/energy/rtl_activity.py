"""Switching activity of the generated RTL: a Verilator run with a VCD trace, toggles counted.

Runs the model's RTL (build/<model>/rtl, from `codesign rtl`) on the first N golden test
samples streamed back to back (the `stream` pass of codesign/verify/simulate.py, which also
checks every layer against the golden model), counts net-bit toggles in the trace
(codesign/energy/vcd.py) and writes reports/rtl_activity.json. The trace itself (~15 MB for
32 digits_mlp samples) is deleted once counted.
"""

from __future__ import annotations

from pathlib import Path

from codesign import golden_io, paths
from codesign.atomic import write_json
from codesign.energy.vcd import count_toggles
from codesign.errors import CodesignError


def measure(model: str, samples: int = 32) -> dict:
    """Simulate with a trace, count toggles, write and return reports/rtl_activity.json."""
    from codesign.verify.simulate import simulate

    rtl = paths.model_dir(model) / "rtl"
    gold = golden_io.path_for(model)
    for p, cmd in ((rtl / "manifest.json", "codesign rtl"), (gold, "codesign golden")):
        if not p.is_file():
            raise CodesignError(f"{p} missing (run `{cmd} {model}` first)")
    work = paths.model_dir(model) / "energy" / "trace"
    rep = simulate(rtl, gold, samples=samples, waves=True, build_dir=work, passes=("stream",))
    if rep["mismatches"]:
        raise CodesignError(f"RTL trace run of '{model}' does not match golden: {rep['summary']}")
    vcd = rep["waves"]
    counts = count_toggles(vcd)
    out = {
        "model": model,
        "samples": rep["samples"],
        "mismatches": rep["mismatches"],
        "interval_cycles_per_inference": rep.get("interval_cycles_per_inference"),
        **counts,
        "toggles_per_inference": counts["toggles"] / rep["samples"],
        "method": "Verilator --trace (VCD) of the stream pass, every net bit except clk; "
        "rate = toggles / (bits x clock cycles)",
    }
    Path(vcd).unlink(missing_ok=True)
    write_json(paths.reports_dir(model) / "rtl_activity.json", out)
    return out
