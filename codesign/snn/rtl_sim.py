"""`codesign sim <spiking model>`: run the generated core under Verilator (cocotb bench
hw/tb/snn_tb.py) and compare with the golden model spike for spike (and membranes on request).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph
from codesign.snn import golden as gold
from codesign.snn.graph import SpikingNet, spiking_net


def input_events(x: np.ndarray) -> list[list[list[int]]]:
    """(N, T, *in) spikes -> per sample, per step, the flat input addresses that spike."""
    flat = np.asarray(x).reshape(x.shape[0], x.shape[1], -1)
    return [[np.flatnonzero(step).tolist() for step in sample] for sample in flat]


def to_tensors(results: list[dict], net: SpikingNet, manifest: dict) -> dict[str, np.ndarray]:
    """Recorded events -> {'<layer>': spikes, '<layer>.v': membranes} like the golden model."""
    n, steps = len(results), net.steps
    out = {}
    for info in manifest["neurons"]["layers"]:
        shape = (n, steps, *info["shape"])
        out[info["name"]] = np.zeros(shape, np.int64)
        out[f"{info['name']}.v"] = np.zeros(shape, np.int64)
    layers = manifest["neurons"]["layers"]
    los = np.array([i["lo"] for i in layers])

    def locate(addr: int):
        k = int(np.searchsorted(los, addr, side="right") - 1)
        info = layers[k]
        return info["name"], np.unravel_index(addr - info["lo"], info["shape"])

    for s, r in enumerate(results):
        for addr, t in r["spikes"]:
            name, idx = locate(addr)
            out[name][(s, t, *idx)] = 1
        for addr, t, v in r["mems"]:
            name, idx = locate(addr)
            out[f"{name}.v"][(s, t, *idx)] = v
    return out


def simulate(
    graph: Graph,
    x: np.ndarray,
    rtl_dir: str | Path,
    membranes: bool = True,
    labels: np.ndarray | None = None,
    simulator: str = "verilator",
) -> dict:
    """Run the core on samples x; report mismatches (spikes, membranes, scores) and cycles."""
    from codesign.ir.compare import compare_layers
    from codesign.rtl.manifest import load as load_manifest
    from codesign.verify.runner import run_bench

    net = spiking_net(graph)
    rtl_dir = Path(rtl_dir).resolve()
    man = load_manifest(rtl_dir, "snn")
    if man["steps"] != net.steps or man["model"] != net.name:
        raise CodesignError(f"RTL at {rtl_dir} was generated for another graph (rerun rtl)")
    build = rtl_dir.parent / "rtl_sim"
    out = build / "snn_results.json"
    p = man["params"]
    cfg = {
        "samples": input_events(x),
        "rec_mem": bool(membranes),
        "clear_cycles": man["neurons"]["n_post"] * (1 << p["SLOT_W"]),
        "out": str(out),
    }
    out.unlink(missing_ok=True)
    t0 = time.time()
    res = run_bench(
        [rtl_dir / s for s in man["sources"]], man["top"], "snn_tb", build, simulator, config=cfg
    )
    seconds = time.time() - t0
    if res["failed"] or not out.is_file():
        raise CodesignError(f"RTL simulation failed (log: {res['log']})")
    results = json.loads(out.read_text())
    rtl = to_tensors(results, net, man)
    g = gold.run(graph, x)
    last = net.layers[-1]
    spike_keys = [lay.name for lay in net.layers if lay.spiking]
    mem_keys = [f"{lay.name}.v" for lay in net.layers if membranes or not lay.spiking]
    sc = compare_layers(g, rtl, spike_keys, "golden", "rtl")
    mc = compare_layers(g, rtl, mem_keys, "golden", "rtl")
    if net.readout == "membrane_sum":
        rtl["scores"] = rtl[f"{last.name}.v"].sum(axis=1)
    else:
        s = rtl[last.name]
        rtl["scores"] = s.reshape(*s.shape[:3], -1).sum(axis=(1, 3))
    score_mm = int((rtl["scores"] != g["scores"]).sum())
    first = sc["first_mismatch"] or mc["first_mismatch"]
    if first:
        idx = first["index"] if isinstance(first["index"], list) else [first["index"]]
        first = {
            "layer": first["layer"],
            "sample": first["sample"],
            "step": idx[0],
            "neuron": idx[1] if len(idx) == 2 else idx[1:],
            "golden": first["golden"],
            "rtl": first["rtl"],
        }
    cycles = np.array([r["cycles"] for r in results], dtype=np.float64)
    report = {
        "simulator": simulator,
        "samples": len(results),
        "spike_mismatches": sc["mismatches"],
        "membrane_mismatches": mc["mismatches"],
        "score_mismatches": score_mm,
        "layer_mismatches": {**sc["layers"], **mc["layers"]},
        "first_mismatch": first,
        "rtl_spikes": int(sum(len(r["spikes"]) for r in results)),
        "cycles_per_step": float(cycles.mean()),
        "cycles_per_step_max": int(cycles.max()),
        "cycles_per_sample": float(cycles.sum(axis=1).mean() + cfg["clear_cycles"]),
        "clear_cycles": cfg["clear_cycles"],
        "sim_seconds": round(seconds, 1),
    }
    if labels is not None:
        report["accuracy_rtl"] = float((gold.predict(rtl["scores"]) == labels).mean())
    return report


def describe(report: dict) -> str:
    f = report.get("first_mismatch")
    if not f:
        return f"0 mismatches over {report['samples']} samples"
    return (
        f"{report['spike_mismatches']} spike / {report['membrane_mismatches']} membrane "
        f"mismatches; first: layer {f['layer']} sample {f['sample']} step {f['step']} "
        f"neuron {f['neuron']}: golden={f['golden']} rtl={f['rtl']}"
    )
