"""Yosys resource count of a generated codenet_accel (xc7 generic synthesis, Yosys 0.23)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from codesign.errors import CodesignError

CELL_GROUPS = {
    "LUT": r"LUT\d",
    "FF": r"FD[RSCPE]+",
    "DSP": r"DSP48E1",
    "BRAM": r"RAMB(18|36)E1",
    "LUTRAM": r"RAM(32|64|128|256)[XM]\w*",
    "CARRY": r"CARRY4",
}


def resources(rtl_dir: Path, manifest: dict, work: Path, timeout: int = 900) -> dict:
    """`synth_xilinx -family xc7 -flatten` on the generated top; cell counts by kind."""
    yosys = shutil.which("yosys")
    if yosys is None:
        return {"skipped": "yosys not installed (apt-get install yosys)"}
    work.mkdir(parents=True, exist_ok=True)
    srcs = " ".join(str(Path(rtl_dir).resolve() / s) for s in manifest["sources"])
    script = (
        f"read_verilog {srcs}\nsynth_xilinx -family xc7 -flatten -top {manifest['top']}\nstat\n"
    )
    (work / "synth.ys").write_text(script)
    try:
        p = subprocess.run(
            [yosys, "-q", "-l", str(work / "yosys.log"), "-s", str(work / "synth.ys")],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"yosys timed out after {timeout} s"}
    if p.returncode:
        raise CodesignError(f"yosys failed on {manifest['top']} (see {work / 'yosys.log'})")
    log = (work / "yosys.log").read_text()
    stat = log[log.rfind("Printing statistics") :]
    cells = {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+(\S+)\s*$", stat, re.M)}
    if not cells:  # yosys 0.23 prints "   name   count"
        cells = {
            m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(\d+)\s*$", stat, re.M)
        }
    out = {
        k: sum(v for c, v in cells.items() if re.fullmatch(rx, c)) for k, rx in CELL_GROUPS.items()
    }
    out.update(
        {
            "target": "xc7 (yosys synth_xilinx, generic)",
            "cells": cells,
            "log": str(work / "yosys.log"),
        }
    )
    return out
