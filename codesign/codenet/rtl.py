"""The one graph (CoDeNet layers) -> codenet_accel RTL, its host program, the Verilator run.

`generate` writes build/<model>/rtl/: the hw/rtl sources, a wrapper `<model>_top.v` fixing the
accelerator's parameters for the model, `program.json` (per layer: unit, channel groups, ReLU,
the weight and {bias, scale} words the host writes) and `manifest.json`. The folder is written
under a temporary name and renamed. `simulate` runs hw/tb/codenet_tb.py on a few images under
Verilator and compares every layer's feature map with the golden model (ir/compare.py).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from codesign.atomic import Staged, replacing_dir
from codesign.codenet import integer as I
from codesign.codenet import perf
from codesign.codenet.graph import CodenetNet, codenet_net
from codesign.errors import CodesignError
from codesign.graph.core import Graph
from codesign.rtl import manifest as rtl_manifest

SOURCES = ("codenet_accel.v", "codenet_pw.v", "codenet_dw.v", "cs_requant_codenet.v")
HW_RTL = Path(__file__).resolve().parents[2] / "hw" / "rtl"
WB = I.W_BITS  # weight container bits (CoDeNet's HLS uses 8-bit containers for 4-bit weights)


def _hex(v: int) -> str:
    return format(v, "x")


def _pack(values, bits: int) -> int:
    mask = (1 << bits) - 1
    w = 0
    for i, v in enumerate(values):
        w |= (int(v) & mask) << (i * bits)
    return w


def hw_params(graph: CodenetNet, pa: int, pe: int) -> dict:
    cmax = max(max(lay.in_channels, lay.out_channels) for lay in graph.layers)
    cmax = 2 ** math.ceil(math.log2(max(cmax, pa, pe)))
    _, h, w = graph.input_shape
    if h <= perf.SMAX or w & (w - 1):
        raise CodesignError(
            f"{graph.name}: codenet_accel needs H > {perf.SMAX} and W a power of two"
        )
    return {"PA": pa, "PE": pe, "CMAX": cmax, "H": h, "W": w, "WB": WB}


def program(graph: CodenetNet, hw: dict) -> list[dict]:
    """The host's per-layer writes and configuration for codenet_accel."""
    pa, pe, cmax = hw["PA"], hw["PE"], hw["CMAX"]
    prog = []
    lo, hi = -(2 ** (WB - 1)), 2 ** (WB - 1) - 1
    for lay in graph.layers:
        cout = lay.out_channels
        if lay.weight.size and (lay.weight.min() < lo or lay.weight.max() > hi):
            raise CodesignError(
                f"layer '{lay.name}': integer weights {lay.weight.min()}..{lay.weight.max()} do "
                f"not fit the accelerator's signed {WB}-bit weight container"
            )
        ng = math.ceil(cout / pe)
        params = []
        for g in range(ng):
            lanes = []
            for p in range(pe):
                c = g * pe + p
                sc, bi = (int(lay.scale[c]), int(lay.bias[c])) if c < cout else (0, 0)
                lanes.append(((bi & 0xFFFF) << 16) | (sc & 0xFFFF))
            params.append(_pack(lanes, 32))
        writes = []
        if lay.kind == "pw":
            if lay.in_channels % pa:
                raise CodesignError(
                    f"layer '{lay.name}': {lay.in_channels} inputs not a multiple of PA={pa}"
                )
            ni = lay.in_channels // pa
            for og in range(ng):
                for ig in range(ni):
                    vals = []
                    for p in range(pe):
                        for a in range(pa):
                            o, i = og * pe + p, ig * pa + a
                            vals.append(int(lay.weight[o, i]) if o < cout else 0)
                    writes.append([0, og * (cmax // pa) + ig, _hex(_pack(vals, WB))])
            writes += [[1, g, _hex(w)] for g, w in enumerate(params)]
            mode, ni_m1 = 0, ni - 1
        else:
            for g in range(ng):
                for k in range(9):
                    vals = [
                        int(lay.weight[g * pe + p, k]) if g * pe + p < cout else 0
                        for p in range(pe)
                    ]
                    writes.append([2, g * 16 + k, _hex(_pack(vals, WB))])
            writes += [[3, g, _hex(w)] for g, w in enumerate(params)]
            mode, ni_m1 = 1, 0
        _, h, w = graph.input_shape
        model_c = (
            perf.pw_cycles(h, w, lay.in_channels, cout, pa, pe)
            if mode == 0
            else perf.dw_cycles(h, w, cout, pe)
        )
        prog.append(
            {
                "name": lay.name,
                "mode": mode,
                "src": lay.src,
                "s_src": lay.s_src,
                "ni_m1": ni_m1,
                "no_m1": ng - 1,
                "relu": int(lay.relu),
                "cout": cout,
                "writes": writes,
                "max_cycles": 4 * model_c + 1000,
            }
        )
    return prog


def _wrapper(top: str, hw: dict) -> str:
    ports = [
        "clk",
        "rst_n",
        "start",
        "cfg_mode",
        "cfg_ni_m1",
        "cfg_no_m1",
        "cfg_relu",
        "cfg_npix_m1",
        "busy",
        "wr_en",
        "wr_sel",
        "wr_addr",
        "wr_data",
        "in_valid",
        "in_ready",
        "in_data",
        "s_valid",
        "s_ready",
        "s_data",
        "out_valid",
        "out_ready",
        "out_data",
    ]
    pa, pe, cmax = hw["PA"], hw["PE"], hw["CMAX"]
    iw = max(1, int(math.log2(cmax // pa)))
    ow = max(1, int(math.log2(cmax // pe)))
    ln = max(pa, pe)
    dw = max(pe * pa * WB, pe * 32)
    decl = {
        "clk": "input wire",
        "rst_n": "input wire",
        "start": "input wire",
        "cfg_mode": "input wire",
        "cfg_ni_m1": f"input wire [{iw - 1}:0]",
        "cfg_no_m1": f"input wire [{ow - 1}:0]",
        "cfg_relu": "input wire",
        "cfg_npix_m1": "input wire [15:0]",
        "busy": "output wire",
        "wr_en": "input wire",
        "wr_sel": "input wire [1:0]",
        "wr_addr": "input wire [15:0]",
        "wr_data": f"input wire [{dw - 1}:0]",
        "in_valid": "input wire",
        "in_ready": "output wire",
        "in_data": f"input wire [{ln * 8 - 1}:0]",
        "s_valid": "input wire",
        "s_ready": "output wire",
        "s_data": "input wire [7:0]",
        "out_valid": "output wire",
        "out_ready": "input wire",
        "out_data": f"output wire [{pe * 8 - 1}:0]",
    }
    lines = [
        "`timescale 1ns / 1ps",
        f"// {top} -- generated by codesign (codesign/codenet/rtl.py): codenet_accel",
        f"// with PA={pa}, PE={pe}, CMAX={cmax}, H={hw['H']}, W={hw['W']} for this model.",
        f"module {top} (",
    ]
    lines += [f"    {decl[p]} {p}{',' if i < len(ports) - 1 else ''}" for i, p in enumerate(ports)]
    lines += [
        ");",
        "    codenet_accel #(",
        f"        .PA({pa}),",
        f"        .PE({pe}),",
        f"        .CMAX({cmax}),",
        f"        .H({hw['H']}),",
        f"        .W({hw['W']}),",
        f"        .WB({WB})",
        "    ) u_accel (",
    ]
    lines += [f"        .{p}({p}){',' if i < len(ports) - 1 else ''}" for i, p in enumerate(ports)]
    lines += ["    );", "endmodule", ""]
    return "\n".join(lines)


def generate(
    graph: Graph, out_dir: str | Path, pa: int, pe: int, staged: Staged | None = None
) -> dict:
    graph = codenet_net(graph)  # the CoDeNet lowering: refuses any other node by name
    hw = hw_params(graph, pa, pe)
    top = f"{graph.name}_top"
    prog = program(graph, hw)
    manifest = rtl_manifest.make(
        "codenet",
        graph.name,
        top,
        [*SOURCES, f"{top}.v"],
        hw=hw,
        layers=[
            {k: v for k, v in p.items() if k != "writes"} | {"words": len(p["writes"])}
            for p in prog
        ],
    )
    with replacing_dir(out_dir, staged) as tmp:
        for s in SOURCES:
            shutil.copy(HW_RTL / s, tmp / s)
        (tmp / f"{top}.v").write_text(_wrapper(top, hw))
        (tmp / "program.json").write_text(json.dumps({"hw": hw, "program": prog}))
        rtl_manifest.write(tmp, manifest)
    return manifest


def to_nhwc_lists(x: np.ndarray) -> list:
    """(C, H, W) -> list of pixels (row-major), each a list of channel ints."""
    c = x.shape[0]
    return x.reshape(c, -1).T.astype(int).tolist()


def simulate(
    rtl_dir: str | Path, golden: dict[str, np.ndarray], images: list[int], build_dir: str | Path
) -> dict:
    """Run the model on images `images` (indices into the golden tensors); compare every layer."""
    from codesign.ir.compare import compare_layers
    from codesign.verify.runner import run_bench

    rtl_dir, build_dir = Path(rtl_dir).resolve(), Path(build_dir).resolve()
    man = rtl_manifest.load(rtl_dir, "codenet")
    prog = json.loads((rtl_dir / "program.json").read_text())
    out = build_dir / "rtl_outputs.json"
    cfg = {
        "hw": prog["hw"],
        "program": prog["program"],
        "out": str(out),
        "inputs": [to_nhwc_lists(golden["input"][i]) for i in images],
    }
    res = run_bench(
        [rtl_dir / s for s in man["sources"]],
        man["top"],
        "codenet_tb",
        build_dir / "sim",
        config=cfg,
    )
    if res["failed"] or not out.is_file():
        raise CodesignError(f"RTL simulation of {man['top']} failed (see {res['log']})")
    runs = json.loads(out.read_text())
    names = [p["name"] for p in prog["program"]]
    hwd = prog["hw"]
    rtl_t = {}
    for n in names:
        chans = golden[n].shape[1]
        rtl_t[n] = np.stack(
            [
                np.asarray(r["tensors"][n], np.int64).T.reshape(chans, hwd["H"], hwd["W"])
                for r in runs
            ]
        )
    gold = {n: golden[n][images] for n in names}
    cmp = compare_layers(gold, rtl_t, names, "golden", "rtl")
    if cmp["first_mismatch"]:  # name layer, channel and pixel (index is [c, y, x])
        f = cmp["first_mismatch"]
        c, y, x = f["index"]
        f.update({"channel": c, "pixel": [y, x], "image": images[f["sample"]]})
    cycles = {n: int(np.mean([r["cycles"][n] for r in runs])) for n in names}
    loads = {n: int(np.mean([r["load_cycles"][n] for r in runs])) for n in names}
    return {
        "images": images,
        "mismatches": cmp["mismatches"],
        "layer_mismatches": cmp["layers"],
        "first_mismatch": cmp["first_mismatch"],
        "cycles": cycles,
        "load_cycles": loads,
        "rtl_tensors": rtl_t,
    }
