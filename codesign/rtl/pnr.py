"""iCE40 place and route and the bitstream: Yosys `synth_ice40` -> nextpnr-ice40 -> icepack.

A model's top has hundreds of port bits and no iCE40 package has that many pins, so what is
placed is a pin-light shell around it: a serial-in shift register drives every input port, the
XOR of every output bit leaves on one pin (so no logic is optimised away), and the clock and
reset have pins of their own. The shell's flip-flops are reported (`shell_extra_ffs`). The
shell is built from the top's port list (each `input|output [N:0] name` with a numeric width,
as the MVU chain and the spiking core write them; other tops are refused by name).

Capacities are the datasheets' (iCE40 UltraPlus DS1056: UP5K 5280 logic cells, 30 EBR, 8
SB_MAC16; iCE40 LP/HX DS1040: HX8K 7680 logic cells, 32 EBR, no DSP). A design over them is
refused before nextpnr runs, naming what it needs, what the device has and a folding to try.

CLI verb: `codesign bitstream <model> --device up5k|hx8k [--clock-mhz F]` writes
build/<model>/bitstream/<device>/<top>_<device>.bin and reports/pnr_<device>.json.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from codesign.errors import ArgumentParser, CodesignError, fail, first_line, positive_number

PORT = re.compile(
    r"^\s*(input|output|inout)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?(?:\[([^\]]*)\]\s*)?(\w+)"
    r"\s*(,\s*\w+\s*)*(?:,|\)|$)",
    re.M,
)


@dataclass(frozen=True)
class Device:
    flag: str
    package: str
    logic_cells: int
    bram: int  # SB_RAM40_4K blocks (4 Kbit each)
    dsp: int  # SB_MAC16


DEVICES = {
    "up5k": Device("--up5k", "sg48", 5280, 30, 8),
    "hx8k": Device("--hx8k", "ct256", 7680, 32, 0),
}


def top_ports(top_file: Path, top: str) -> list[tuple[str, str, int]]:
    """(direction, name, width) of each port of module `top`, read from its header."""
    text = Path(top_file).read_text()
    m = re.search(rf"\bmodule\s+{re.escape(top)}\b.*?\);", text, re.S)
    if m is None:
        raise CodesignError(f"{top_file}: no module header for '{top}'")
    ports = []
    for d, rng, name, more in PORT.findall(m.group(0)):
        nums = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", rng) if rng else None
        if d == "inout" or more or (rng and (nums is None or int(nums[1]) < int(nums[2]))):
            raise CodesignError(
                f"{top_file}: port '{name}' of '{top}' is not one `input|output [N:0] name` with "
                "a numeric width; the place-and-route shell takes generated tops (the MVU chain, "
                "the spiking core)"
            )
        ports.append((d, name, int(nums[1]) - int(nums[2]) + 1 if nums else 1))
    if not any(d == "output" for d, _, _ in ports):
        raise CodesignError(f"{top_file}: module '{top}' has no output port to observe")
    return ports


def shell_verilog(top_file: Path, top: str) -> tuple[str, str, int]:
    """The pin-light shell around `top`: (module name, Verilog, flip-flops it adds)."""
    ports = top_ports(top_file, top)
    ins = [(n, w) for d, n, w in ports if d == "input" and n not in ("clk", "rst_n")]
    outs = [(n, w) for d, n, w in ports if d == "output"]
    width = max(1, sum(w for _, w in ins))
    name = f"{top}_pnr_shell"
    conns, at = [".clk(clk)"], 0
    if any(n == "rst_n" for _, n, _ in ports):
        conns.append(".rst_n(rst_n)")
    for n, w in ins:
        conns.append(f".{n}(sr[{at + w - 1}:{at}])")
        at += w
    conns += [f".{n}(o_{n})" for n, _ in outs]
    wires = "\n".join(f"    wire [{w - 1}:0] o_{n};" for n, w in outs)
    xor = ", ".join(f"o_{n}" for n, _ in outs)
    v = f"""`timescale 1ns / 1ps
// {name} -- place-and-route shell: every input port of {top} from a serial shift register,
// the XOR of every output bit to one pin.
module {name} (input wire clk, input wire rst_n, input wire sin, output reg sout);
    reg [{width - 1}:0] sr;
{wires}
    always @(posedge clk) sr <= {{sr[{max(width - 2, 0)}:0], sin}};
    {top} u_top (
        {", ".join(conns)}
    );
    always @(posedge clk) sout <= ^{{{xor}}};
endmodule
"""
    return name, v, width + 1


def _run(cmd: list[str], log: Path, cwd: Path) -> subprocess.CompletedProcess:
    with open(log, "w") as f:
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)


def cells(stat_json: Path, top: str) -> dict[str, int]:
    """Cell counts by type of `top` from Yosys' `stat -json` (the one reader of it)."""
    doc = json.loads(stat_json.read_text())
    mods = doc.get("modules", {})
    mod = mods.get(f"\\{top}") or mods.get(top) or (next(iter(mods.values())) if mods else None)
    if mod is None:
        raise CodesignError(f"yosys wrote no statistics for '{top}' ({stat_json})")
    return {k: int(v) for k, v in mod.get("num_cells_by_type", {}).items()}


def group(counts: dict[str, int], groups: dict[str, str]) -> dict[str, int]:
    """Cell counts summed per resource, each a regular expression over cell types."""
    out = {k: 0 for k in groups}
    for name, n in counts.items():
        for key, pat in groups.items():
            if re.fullmatch(pat, name.lstrip("\\$")):
                out[key] += int(n)
    return out


ICE40_GROUPS = {
    "LUT4": r"SB_LUT4",
    "FF": r"SB_DFF\w*",
    "CARRY": r"SB_CARRY",
    "RAM": r"SB_RAM40_4K\w*",
    "DSP": r"SB_MAC16",
}


def place_and_route(
    man: dict,
    rtl_dir: Path,
    out: Path,
    device: str,
    clock_mhz: float,
    bitstream: bool = False,
) -> dict:
    """Synthesise the shell, place and route it at `clock_mhz` and, with `bitstream`, pack
    the .bin; {"fits": False, "error": ...} when nextpnr cannot place it."""
    exe = shutil.which("nextpnr-ice40")
    if exe is None:
        return {"skipped": "nextpnr-ice40 not installed (apt-get install nextpnr-ice40)"}
    if bitstream and shutil.which("icepack") is None:
        raise CodesignError("icepack not found (Debian: apt-get install fpga-icestorm)")
    dev = DEVICES[device]
    rtl_dir, out = Path(rtl_dir).resolve(), Path(out).resolve()  # Yosys runs in `out`
    name, v, extra = shell_verilog(rtl_dir / man["top_file"], man["top"])
    (out / f"{name}.v").write_text(v)
    read = "\n".join(f"read_verilog {p}" for p in [*(rtl_dir / s for s in man["sources"])])
    read += f"\nread_verilog {name}.v"  # Yosys and nextpnr run in `out`: no path names it
    dsp = "-dsp" if dev.dsp else ""
    (out / "shell.ys").write_text(
        f"{read}\nsynth_ice40 -top {name} {dsp} -json shell.json\n"
        f"tee -q -o shell_stat.json stat -json\n"
    )
    t = time.perf_counter()
    p = _run(["yosys", "-q", "-s", "shell.ys"], out / "yosys_shell.log", out)
    if p.returncode:
        tail = (out / "yosys_shell.log").read_text().strip().splitlines()[-3:]
        raise CodesignError(f"yosys failed on the {name} shell: {' | '.join(tail)}")
    g = group(cells(out / "shell_stat.json", name), ICE40_GROUPS)
    res: dict = {
        "device": device,
        "package": dev.package,
        "clock_mhz": clock_mhz,
        "LUT4": g["LUT4"],
        "FF": g["FF"],
        "BRAM": g["RAM"],
        "DSP": g["DSP"],
        "capacity": {"logic_cells": dev.logic_cells, "BRAM": dev.bram, "DSP": dev.dsp},
        "shell_extra_ffs": extra,
        "yosys_seconds": round(time.perf_counter() - t, 1),
    }
    over = _over_capacity(res, dev)
    if over:
        return {**res, "fits": False, "error": over, "seconds": res["yosys_seconds"]}
    report = out / "nextpnr_report.json"
    asc = out / f"{man['top']}_{device}.asc"
    cmd = [exe, dev.flag, "--package", dev.package, "--json", "shell.json"]
    cmd += ["--freq", str(clock_mhz), "--report", report.name, "--seed", "1"]
    cmd += ["--pcf-allow-unconstrained", "--timing-allow-fail"]
    if bitstream:
        cmd += ["--asc", asc.name]
    t = time.perf_counter()
    p = _run(cmd, out / "nextpnr.log", out)
    res["nextpnr_seconds"] = round(time.perf_counter() - t, 1)
    res["seconds"] = round(res["yosys_seconds"] + res["nextpnr_seconds"], 1)  # the whole flow
    if p.returncode or not report.is_file():
        m = re.search(r"ERROR: (.*)", (out / "nextpnr.log").read_text())
        return {**res, "fits": False, "error": m.group(1).strip() if m else f"exit {p.returncode}"}
    r = json.loads(report.read_text())
    fmax = [v["achieved"] for v in r.get("fmax", {}).values()]
    res["fits"] = True
    res["fmax_mhz"] = round(min(fmax), 2) if fmax else None
    if res["fmax_mhz"]:
        res["slack_ns"] = round(1000 / clock_mhz - 1000 / res["fmax_mhz"], 3)
        res["timing_met"] = res["fmax_mhz"] >= clock_mhz
    res["utilization"] = {k: v for k, v in r.get("utilization", {}).items() if v.get("used")}
    if bitstream:
        binary = asc.with_suffix(".bin")
        p = _run(["icepack", asc.name, binary.name], out / "icepack.log", out)
        if p.returncode or not binary.is_file():
            log = (out / "icepack.log").read_text().strip().splitlines() or ["no output"]
            raise CodesignError(f"icepack failed: {log[-1][:300]}")
        data = binary.read_bytes()
        res["bitstream"] = {
            "file": binary.name,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    return res


def _over_capacity(res: dict, dev: Device) -> str | None:
    need = [
        ("LUT4", res["LUT4"], dev.logic_cells, "logic cells"),
        ("BRAM", res["BRAM"], dev.bram, "EBR blocks"),
        ("DSP", res["DSP"], dev.dsp, "SB_MAC16"),
    ]
    for what, n, cap, unit in need:
        if n > cap:
            return f"needs {n} {what}, {res['device']} has {cap} {unit}"
    return None


def folding_hint(man: dict) -> str:
    """What to try when a design does not fit: halve the widest layer's folding."""
    layers = [lay for lay in man.get("layers", []) if "pe" in lay and "simd" in lay]
    if not layers:
        return "try the other device or a smaller model"
    wide = max(layers, key=lambda lay: lay["pe"] * lay["simd"])
    pe, simd = wide["pe"], wide["simd"]
    if pe * simd == 1:
        return "every layer is folded to PE 1 x SIMD 1 already: try the other device"
    smaller = (pe, simd // 2) if simd >= pe else (pe // 2, simd)
    return (
        f"try folding {wide['name']} PE {smaller[0]} x SIMD {smaller[1]} (now {pe} x {simd}): "
        f"`codesign rtl <model> --folding {wide['name']}={smaller[0]}x{smaller[1]}`, "
        "or the other device"
    )


DEFAULT_CLOCK_MHZ = 12.0  # the oscillator of common iCE40 boards (iCEBreaker, UPduino, iCEstick)


def main(argv: list[str]) -> int:
    """`codesign bitstream <model>`: place, route and pack build/<model>/rtl for an iCE40."""
    from codesign.atomic import together
    from codesign.paths import FLOWS_DIR, build_root, source_of
    from codesign.rtl import manifest

    ap = ArgumentParser(prog="codesign bitstream", description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("--device", choices=tuple(DEVICES), default="up5k")
    ap.add_argument(
        "--clock-mhz",
        type=positive_number,
        help=f"target clock (default: the flow file's bitstream.clock_mhz, else "
        f"{DEFAULT_CLOCK_MHZ:g})",
    )
    ap.add_argument("--build-dir", default=str(build_root()))
    ap.add_argument("--flows-dir", default=str(FLOWS_DIR))
    a = ap.parse_args(argv)
    root = Path(a.build_dir) / a.model
    try:
        clock = a.clock_mhz or _flow_clock(Path(a.flows_dir) / f"{a.model}.yaml")
        man = manifest.load(root / "rtl")
        manifest.check_source(man, root, a.model)
        with together(root) as staged:  # the bitstream folder and its report, or neither
            out = staged.dir(root / "bitstream" / a.device)  # one folder per device
            rep = place_and_route(man, root / "rtl", out, a.device, clock, bitstream=True)
            if "skipped" in rep:
                raise CodesignError(rep["skipped"])
            if not rep["fits"]:
                raise CodesignError(
                    f"{a.model} does not fit {a.device}: {rep['error']}; {folding_hint(man)}"
                )
            rep = {
                "model": a.model,
                "top": man["top"],
                "kind": man["kind"],
                "folding": man.get("folding"),
                "built_from": source_of(root / "rtl" / manifest.FILE, root),
                **rep,
            }
            rep["bitstream"]["file"] = f"bitstream/{a.device}/{rep['bitstream']['file']}"
            staged.json(root / "reports" / f"pnr_{a.device}.json", rep)
    except CodesignError as e:
        return fail(e)
    met = rep.get("timing_met")
    print(
        f"{a.model} on {a.device}: LUT4 {rep['LUT4']}, FF {rep['FF']}, BRAM {rep['BRAM']}, "
        f"DSP {rep['DSP']}; fmax {rep['fmax_mhz']} MHz at a {clock:g} MHz clock "
        f"({'met' if met else 'NOT met'}, slack {rep.get('slack_ns')} ns) -> "
        f"{root / rep['bitstream']['file']} ({rep['bitstream']['bytes']} bytes)"
    )
    return 0 if met else 1


def _flow_clock(flow_file: Path) -> float:
    """bitstream.clock_mhz of the model's flow file, checked; DEFAULT_CLOCK_MHZ without one."""
    import math

    import yaml

    if not flow_file.is_file():
        return DEFAULT_CLOCK_MHZ
    try:
        doc = yaml.safe_load(flow_file.read_text()) or {}
    except yaml.YAMLError as e:
        raise CodesignError(f"bad flow file {flow_file}: {first_line(e)}") from None
    section = doc.get("bitstream", {}) if isinstance(doc, dict) else {}
    if not isinstance(section, dict):
        raise CodesignError(f"{flow_file}: 'bitstream' must be a mapping")
    v = section.get("clock_mhz", DEFAULT_CLOCK_MHZ)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
        raise CodesignError(f"{flow_file}: bitstream.clock_mhz must be a number > 0, got {v!r}")
    return float(v)
