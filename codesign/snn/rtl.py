"""`codesign rtl <spiking model>`: the event-driven core's tables and top from the integer graph.

The network is flattened into one address space: input neurons 0 .. N_IN-1 (the input tensor
of one step, C order), then every layer's neurons (C order of (channel[, y, x])) as post-
synaptic neurons 0 .. N_POST-1; a spike of post neuron j is pre-synaptic address N_IN + j.
Every non-zero weight becomes a synapse (pre, post, weight, delay), sorted by pre; an HD-SNN
conv is expanded to its explicit synapses (one per weight tap landing inside the frame).
Writes build/<model>/rtl/: snn_core.v (copy of hw/rtl), snn_top.v (parameters + table paths),
*.hex tables, manifest.json; lints the pair with verilator --lint-only -Wall.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

from codesign.atomic import Staged, replacing_dir
from codesign.errors import CodesignError
from codesign.graph.core import Graph, symmetric_bits
from codesign.rtl import manifest as rtl_manifest
from codesign.snn.graph import SpikingNet, ring_bits, spiking_net
from codesign.snn.report import rtl_slots

CORE = Path(__file__).resolve().parents[2] / "hw" / "rtl" / "snn_core.v"
TABLES = ("syn", "ptr", "th", "bias", "layer")


def _sbits(values: np.ndarray) -> int:
    """Signed width holding every value (at least 2)."""
    m = int(np.abs(np.asarray(values, dtype=np.int64)).max(initial=0))
    return max(2, symmetric_bits(m))


def _clog2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(2, n))))


def neuron_map(net: SpikingNet) -> dict:
    """Per layer: first post index and per-step shape; N_IN and N_POST."""
    n_in = int(np.prod(net.input_shape))
    base, layers = 0, []
    for lay in net.layers:
        out = lay.out_shape
        n = int(np.prod(out))
        layers.append({"name": lay.name, "lo": base, "hi": base + n, "shape": list(out)})
        base += n
    return {"n_in": n_in, "n_post": base, "layers": layers}


def synapses(net: SpikingNet, nmap: dict) -> np.ndarray:
    """(N_SYN, 4) int64 rows (pre, post, weight, delay), sorted by pre (stable)."""
    rows = []
    pre_base, shape = 0, tuple(net.input_shape)
    for lay, info in zip(net.layers, nmap["layers"], strict=True):
        post_base = info["lo"]
        if lay.kind == "dense":  # a synapse per non-zero weight at each delay
            o, i, d = np.nonzero(lay.weight)
            rows.append(np.stack([pre_base + i, post_base + o, lay.weight[o, i, d], d], 1))
        else:
            _, h, w = shape
            kh, kw = lay.weight.shape[3:]
            for o, ci, d, u, v in zip(*np.nonzero(lay.weight), strict=True):
                ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
                ty, tx = ys - u + kh // 2, xs - v + kw // 2  # output fed by input (ys, xs)
                ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
                pre = pre_base + (ci * h + ys[ok]) * w + xs[ok]
                post = post_base + (o * h + ty[ok]) * w + tx[ok]
                n = len(pre)
                rows.append(
                    np.stack([pre, post, np.full(n, lay.weight[o, ci, d, u, v]), np.full(n, d)], 1)
                )
        pre_base = nmap["n_in"] + info["lo"]
        shape = tuple(info["shape"])
    syn = np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 4), np.int64)
    return syn[np.argsort(syn[:, 0], kind="stable")]


def _hex_lines(values, bits: int) -> str:
    digits = max(1, (bits + 3) // 4)
    mask = (1 << bits) - 1
    return "".join(f"{int(v) & mask:0{digits}x}\n" for v in values)


def plan(graph: Graph) -> dict:
    """Parameters and table contents of the core for this graph."""
    net = spiking_net(graph)
    nmap = neuron_map(net)
    syn = synapses(net, nmap)
    n_in, n_post = nmap["n_in"], nmap["n_post"]
    slots = rtl_slots(net)
    for lay in net.layers:
        if not 0 <= lay.leak_shift <= 15:  # the core's layer word holds k in 4 bits
            raise CodesignError(
                f"node '{lay.name}' (LIF): leak_shift {lay.leak_shift} beyond the core's 0..15"
            )
    p = {
        "N_IN": n_in,
        "N_POST": n_post,
        "N_LAYERS": len(net.layers),
        "POST_W": _clog2(n_post),
        "SLOT_W": max(1, int(math.log2(slots))),
        "W_W": _sbits(syn[:, 2]) if len(syn) else 2,
        "V_W": net.v_bits,
        "T_W": max(2, (net.steps + 1).bit_length()),
        "FIFO_AW": _clog2(max(i["hi"] - i["lo"] for i in nmap["layers"]) + 1),
    }
    p["PRE_W"] = max(_clog2(n_in + n_post + 2), p["POST_W"] + 1)
    p["SYN_AW"] = _clog2(len(syn) + 1)
    p["RING_W"] = max(ring_bits(net.layers), p["W_W"] + 1)
    th = np.zeros(n_post, np.int64)
    bias = np.zeros(n_post, np.int64)
    layer_rows = []
    for lay, info in zip(net.layers, nmap["layers"], strict=True):
        per = int(np.prod(info["shape"][1:])) if len(info["shape"]) > 1 else 1
        th[info["lo"] : info["hi"]] = np.repeat(lay.threshold, per)
        bias[info["lo"] : info["hi"]] = np.repeat(lay.bias, per)
        layer_rows.append((info["lo"], info["hi"], lay.leak_shift, int(lay.spiking)))
    p["B_W"] = _sbits(bias)
    if _sbits(th) > p["V_W"]:
        raise CodesignError(f"threshold needs {_sbits(th)} bits > membrane width {p['V_W']}")
    ptr = np.searchsorted(syn[:, 0], np.arange(n_in + n_post + 1), side="left")
    lw = p["POST_W"] + 1
    layer_words = [(lo << (lw + 5)) | (hi << 5) | (k << 1) | s for lo, hi, k, s in layer_rows]
    syn_words = [
        (int(post) << (p["W_W"] + p["SLOT_W"]))
        | ((int(w) & ((1 << p["W_W"]) - 1)) << p["SLOT_W"])
        | int(d)
        for _, post, w, d in syn
    ]
    tables = {
        "syn": _hex_lines(syn_words, p["POST_W"] + p["W_W"] + p["SLOT_W"]),
        "ptr": _hex_lines(ptr, p["SYN_AW"]),
        "th": _hex_lines(th, p["V_W"]),
        "bias": _hex_lines(bias, p["B_W"]),
        "layer": _hex_lines(layer_words, 2 * lw + 5),
    }
    memory = {
        "delay_ring_bits": n_post * slots * p["RING_W"],
        "membrane_bits": n_post * p["V_W"],
        "synapse_bits": len(syn) * (p["POST_W"] + p["W_W"] + p["SLOT_W"]),
        "pointer_bits": (n_in + n_post + 1) * p["SYN_AW"],
        "neuron_param_bits": n_post * (p["V_W"] + p["B_W"]),
    }
    memory["total_bits"] = sum(memory.values())
    return {"params": p, "tables": tables, "nmap": nmap, "synapses": len(syn), "memory": memory}


TOP = """`timescale 1ns / 1ps
// snn_top -- generated by `codesign rtl {name}`: snn_core with this model's parameters/tables.
module snn_top (
    input  wire              clk,
    input  wire              rst_n,
    input  wire              clear,
    input  wire              rec_mem,
    input  wire              in_valid,
    input  wire              in_eos,
    input  wire [{pre}:0] in_addr,
    output wire              in_ready,
    output wire              spk_valid,
    output wire [{post}:0] spk_addr,
    output wire [{tw}:0] spk_t,
    output wire              mem_valid,
    output wire [{post}:0] mem_addr,
    output wire [{tw}:0] mem_t,
    output wire [{vw}:0] mem_v,
    output wire              step_done
);
    snn_core #(
{params}
    ) core (
        .clk(clk), .rst_n(rst_n), .clear(clear), .rec_mem(rec_mem), .in_valid(in_valid),
        .in_eos(in_eos), .in_addr(in_addr), .in_ready(in_ready), .spk_valid(spk_valid),
        .spk_addr(spk_addr), .spk_t(spk_t), .mem_valid(mem_valid), .mem_addr(mem_addr),
        .mem_t(mem_t), .mem_v(mem_v), .step_done(step_done)
    );
endmodule
"""


def generate(
    graph: Graph, out_dir: str | Path, lint: bool = True, staged: Staged | None = None
) -> dict:
    """Write the RTL folder for `graph` (as part of the `staged` commit if given); returns the
    manifest (+ lint result)."""
    out_dir = Path(out_dir).resolve()
    pl = plan(graph)
    p = pl["params"]
    files = {f"{k.upper()}_FILE": f"{k}.hex" for k in TABLES}  # relative: hexmem.copy_tables
    plines = [f"        .{k}({v})" for k, v in p.items()]
    plines += [f'        .{k}("{v}")' for k, v in files.items()]
    top = TOP.format(
        name=graph.name,
        pre=p["PRE_W"] - 1,
        post=p["POST_W"] - 1,
        tw=p["T_W"] - 1,
        vw=p["V_W"] - 1,
        params=",\n".join(plines),
    )
    manifest = rtl_manifest.make(
        "snn",
        graph.name,
        "snn_top",
        ["snn_core.v", "snn_top.v"],
        params=p,
        steps=spiking_net(graph).steps,
        neurons=pl["nmap"],
        synapses=pl["synapses"],
        memory_bits=pl["memory"],
    )
    with replacing_dir(out_dir, staged) as tmp:
        shutil.copy(CORE, tmp / "snn_core.v")
        (tmp / "snn_top.v").write_text(top)
        for k in TABLES:
            (tmp / f"{k}.hex").write_text(pl["tables"][k])
        rtl_manifest.write(tmp, manifest)
        if lint:
            from codesign.rtl.lint import require_clean

            require_clean(tmp, manifest, out_dir)
    manifest["lint_warnings"] = 0 if lint else None
    return manifest
