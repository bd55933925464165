"""Synthesise a generated model with Debian Yosys (xc7, ice40) and, for iCE40, place and route
with nextpnr-ice40 for fmax. Writes build/<model>/reports/synth_<target>.json.

Resource counts come from Yosys' `stat -json` of the model top. nextpnr needs every port on a
pin, and the model's ~600 port bits fit no iCE40 package, so place-and-route runs on a small
shell (serial-in shift register feeding the ports, XOR of the outputs to one pin) around the
top; its extra flip-flops are reported. CLI verb: `codesign synth <model> --target xc7|ice40`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from codesign.atomic import together
from codesign.errors import ArgumentParser, CodesignError, fail
from codesign.paths import build_root, source_of
from codesign.rtl.manifest import load as load_manifest
from codesign.rtl.pnr import DEVICES, ICE40_GROUPS, cells, group, place_and_route
from codesign.rtl.toolenv import REPO_ROOT

TARGETS = ("xc7", "ice40")
YOSYS_TIMEOUT_S = 900  # xc7_resources: a skipped count rather than a hung flow
SCRIPTS = REPO_ROOT / "flows" / "synth"

XC7_GROUPS = {
    "LUT": r"LUT[1-6]",
    "FF": r"FD[RSCP]E(_1)?",
    "DSP": r"DSP48E1",
    "CARRY4": r"CARRY4",
    "MUXF": r"MUXF[78]",
    "LUTRAM": r"RAM(32|64|128|256)(M|X1[SD])\w*",
    "SRL": r"SRL(16|C32)E",
    "RAMB18": r"RAMB18E1",
    "RAMB36": r"RAMB36E1",
}


def _run(cmd: list[str], log: Path, cwd: Path, timeout: float | None = None) -> float:
    t = time.perf_counter()
    with open(log, "w") as f:
        p = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
    if p.returncode:
        tail = log.read_text().strip().splitlines()[-3:]
        raise CodesignError(f"{cmd[0]} failed (see {log}): {' | '.join(tail)}")
    return time.perf_counter() - t


def synthesize(
    rtl_dir: str | Path,
    target: str,
    out_dir: str | Path,
    device: str = "up5k",
    pnr: bool = True,
    freq_mhz: float = 100.0,
    timeout: float | None = None,
) -> dict:
    """Run Yosys (and nextpnr-ice40 when installed) on a generated RTL folder."""
    if target not in TARGETS:
        raise CodesignError(f"unknown synthesis target '{target}' (choose from {TARGETS})")
    if shutil.which("yosys") is None:
        raise CodesignError("yosys not found (Debian: apt-get install yosys)")
    rtl_dir = Path(rtl_dir).resolve()
    man = load_manifest(rtl_dir)
    top = man["top"]
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    read = "\n".join(f"read_verilog {rtl_dir / s}" for s in man["sources"])
    stat = out / "stat.json"
    stat.unlink(missing_ok=True)
    fields = {
        "read": read,
        "top": top,
        "stat_json": stat,
        "netlist": out / "netlist.v",
        "json": out / "netlist.json",
        "dsp": "-dsp" if device == "up5k" else "",
    }
    script = (SCRIPTS / f"{target}.ys").read_text().format(**fields)
    (out / "run.ys").write_text(script)
    secs = _run(
        ["yosys", "-q", "-l", str(out / "yosys.log"), "-s", str(out / "run.ys")],
        out / "yosys.stdout",
        out,
        timeout,
    )
    counts = cells(stat, top)
    rep: dict = {
        "model": man.get("model"),
        "target": target,
        "top": top,
        "folding": man.get("folding"),
        "yosys_seconds": round(secs, 1),
        "cells_total": sum(counts.values()),
        "cells": counts,
        # relative to the model's folder (build/<model>/), so reports do not name this machine
        "log": os.path.relpath(out / "yosys.log", rtl_dir.parent),
    }
    if target == "xc7":
        g = group(counts, XC7_GROUPS)
        rep.update(g)
        rep["CARRY"] = g["CARRY4"]  # the name the CoDeNet and SNN reports have always used
        rep["BRAM"] = g["RAMB36"] + 0.5 * g["RAMB18"]  # in 36 Kb blocks
        rep["script"] = "synth_xilinx -family xc7 -flatten (Yosys 0.23)"
        return rep
    g = group(counts, ICE40_GROUPS)
    rep.update(g)
    rep["script"] = f"synth_ice40 {fields['dsp']} (Yosys 0.23)".replace("  ", " ")
    rep["device"] = device
    rep["pnr"] = (
        place_and_route(man, rtl_dir, out, device, freq_mhz) if pnr else {"skipped": "disabled"}
    )
    return rep


def xc7_resources(rtl_dir: str | Path, out_dir: str | Path) -> dict:
    """xc7 resources of any generated top (the CoDeNet accelerator, the spiking core, a dense
    model): `synthesize` without place-and-route, or {"skipped": why} without Yosys."""
    if shutil.which("yosys") is None:
        return {"skipped": "yosys not installed (apt-get install yosys)"}
    try:
        return synthesize(rtl_dir, "xc7", out_dir, pnr=False, timeout=YOSYS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"skipped": f"yosys timed out after {YOSYS_TIMEOUT_S} s"}


def xc7_step(root: Path, work: Path, report: Path, shape: Callable[[dict], dict]) -> dict:
    """`codesign synth` of a model whose top has its own flow (spiking core, CoDeNet): Yosys
    xc7 on root/rtl into the folder `work`, and `shape(resources)` as `report`, committed
    together (or neither, with the reason, when Yosys is missing or times out)."""
    with together(root) as staged:
        res = xc7_resources(root / "rtl", staged.dir(work))
        if "skipped" in res:
            raise CodesignError(f"synthesis of '{root.name}' skipped: {res['skipped']}")
        res["log"] = str(Path(work).relative_to(root) / "yosys.log")  # where it lands
        rep = shape(res)
        staged.json(report, rep)
    return rep


def main(argv: list[str]) -> int:
    """`codesign synth <model> --target xc7|ice40`: Yosys resources (+ iCE40 fmax)."""
    ap = ArgumentParser(prog="codesign synth", description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("--target", choices=TARGETS, required=True)
    ap.add_argument("--device", choices=tuple(DEVICES), default="up5k")
    ap.add_argument("--no-pnr", action="store_true", help="skip nextpnr-ice40")
    ap.add_argument("--build-dir", default=str(build_root()))
    a = ap.parse_args(argv)
    root = Path(a.build_dir) / a.model
    path = root / "reports" / f"synth_{a.target}.json"
    work = root / "synth" / a.target
    try:  # the Yosys folder and its report replace the old ones together
        with together(root) as staged:
            out = staged.dir(work)
            try:
                rep = synthesize(root / "rtl", a.target, out, device=a.device, pnr=not a.no_pnr)
            except CodesignError as e:  # the logs of a failed run stay, beside the good folder
                failed = work.with_name(f"{a.target}.failed")
                shutil.rmtree(failed, ignore_errors=True)
                failed.parent.mkdir(parents=True, exist_ok=True)
                out.rename(failed)
                raise CodesignError(str(e).replace(str(out), str(failed))) from None
            rep["log"] = str(work.relative_to(root) / "yosys.log")
            rep["built_from"] = source_of(root / "rtl" / "manifest.json", root)
            staged.json(path, rep)
    except CodesignError as e:
        return fail(e)
    keys = (
        ("LUT", "FF", "DSP", "BRAM", "CARRY4")
        if a.target == "xc7"
        else ("LUT4", "FF", "CARRY", "RAM", "DSP")
    )
    print(f"{a.model} {a.target}: " + ", ".join(f"{k} {rep[k]}" for k in keys) + f" -> {path}")
    if a.target == "ice40":
        pnr = rep["pnr"]
        if pnr.get("fits"):
            print(f"  nextpnr {pnr['device']}: fmax {pnr['fmax_mhz']} MHz")
        else:
            print(f"  nextpnr: {pnr.get('error') or pnr.get('skipped')}")
    return 0
