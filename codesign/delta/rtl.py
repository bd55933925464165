"""RTL of the delta layer (hw/rtl/delta_layer.v = delta_encoder + delta_accum) and its check.

`write_tables` writes the consumer's $readmemh tables and a manifest (Verilog parameters from
the layer's worst case). `simulate` runs hw/tb/delta_tb.py under Verilator on the golden
front-layer codes and compares the RTL's transmitted deltas, accumulators and requantised
outputs with the golden model per sample, step and index. The tables are copied into the
simulation folder and named relatively, so dense/thresholded variants and planted faults with
the same widths reuse one Verilator build (tables are read at run time).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from codesign.atomic import atomic_dir
from codesign.delta.graph import DeltaNet, delta_net
from codesign.errors import CodesignError
from codesign.graph.core import Graph, symmetric_bits
from codesign.ir.compare import compare_layers
from codesign.rtl import manifest as rtl_manifest
from codesign.rtl.hexmem import pack_word, read_hex, to_unsigned, write_hex
from codesign.rtl.toolenv import HW_RTL

SOURCES = ("cs_requant_core.v", "delta_encoder.v", "delta_accum.v", "delta_layer.v")
TOP = "delta_layer"
TABLES = {
    "WEIGHT_FILE": "w1.hex",
    "BIAS_FILE": "b1.hex",
    "MULT_FILE": "m1.hex",
    "SHIFT_FILE": "s1.hex",
}
RTL_LAYERS = ["delta", "consumer.acc", "consumer"]


def _bits_signed(v: int) -> int:
    """Two's complement width holding -v..v."""
    return max(2, symmetric_bits(v))


def hw_params(params: DeltaNet, pe: int) -> dict:
    """Verilog parameters of delta_layer for this consumer (widths from the worst case)."""
    c = params.consumer
    h1, h0 = c.shape
    if pe < 1 or h1 % pe:
        raise CodesignError(f"delta RTL: PE={pe} must divide the consumer's {h1} outputs")
    a_w = params.act_bits
    w_w = _bits_signed(np.abs(c.weight).max())
    # S = W . ref + b with every ref[i] in [0, 2**A_W - 1] at every point of a frame
    bound = int((np.abs(c.weight).sum(axis=1) * (2**a_w - 1) + np.abs(c.bias)).max())
    acc_w = max(_bits_signed(bound), w_w + a_w + 2)
    rq = c.requant
    return {
        "N": h0,
        "A_W": a_w,
        "IDX_W": max(1, (h0 - 1).bit_length()),
        "OUT": h1,
        "PE": pe,
        "W_W": w_w,
        "ACC_W": acc_w,
        "MULT_W": max(1, int(rq.multiplier.max()).bit_length()),
        "SHIFT_W": max(1, int(rq.shift.max()).bit_length()),
        "MAX_SHIFT": int(rq.shift.max()),
        "OUT_W": a_w,
        "LO": int(rq.lo),
        "HI": int(rq.hi),
        "ROUNDING": 0 if rq.rounding == "half_even" else 1,
    }


def write_tables(graph: Graph, pe: int, out_dir: str | Path, model: str = "delta_seq") -> dict:
    """The layer's sources, consumer tables and manifest.json as the folder out_dir (replaced
    as a whole); returns the manifest."""
    params = delta_net(graph)
    hp = hw_params(params, pe)
    with atomic_dir(out_dir) as tmp:
        c = params.consumer
        ng = hp["OUT"] // pe
        words = [
            pack_word([c.weight[g * pe + p, i] for p in range(pe)], hp["W_W"])
            for i in range(hp["N"])
            for g in range(ng)
        ]
        write_hex(tmp / TABLES["WEIGHT_FILE"], words, pe * hp["W_W"])
        bias = [to_unsigned(b, hp["ACC_W"]) for b in c.bias]
        write_hex(tmp / TABLES["BIAS_FILE"], bias, hp["ACC_W"])
        write_hex(tmp / TABLES["MULT_FILE"], c.requant.multiplier.tolist(), hp["MULT_W"])
        write_hex(tmp / TABLES["SHIFT_FILE"], c.requant.shift.tolist(), hp["SHIFT_W"])
        man = rtl_manifest.make("delta", model, TOP, [*SOURCES], params=hp, tables=TABLES)
        for s in SOURCES:
            shutil.copyfile(HW_RTL / s, tmp / s)
        rtl_manifest.write(tmp, man)
    return man


def flip_weight_bit(rtl_dir: str | Path, out: int, inp: int, bit: int) -> None:
    """Plant a fault: flip one bit of W1[out][inp] in the weight table (for checker tests)."""
    rtl_dir = Path(rtl_dir)
    hp = rtl_manifest.load(rtl_dir, "delta")["params"]
    pe, w_w = hp["PE"], hp["W_W"]
    ng = hp["OUT"] // pe
    path = rtl_dir / TABLES["WEIGHT_FILE"]
    words = read_hex(path)
    addr = inp * ng + out // pe
    words[addr] ^= 1 << ((out % pe) * w_w + bit)
    write_hex(path, words, pe * w_w)


def to_tensors(phase: dict, n: int, steps: int, h0: int, h1: int) -> dict[str, np.ndarray]:
    """Bench records -> {'delta', 'consumer.acc', 'consumer'} shaped like the golden tensors."""
    delta = np.zeros((n * steps, h0), dtype=np.int64)
    for f, evs in enumerate(phase["events"]):
        for idx, d in evs:
            if not 0 <= idx < h0:
                raise CodesignError(f"RTL event index {idx} outside 0..{h0 - 1} (frame {f})")
            delta[f, idx] += d  # two events for one index would show as a wrong sum
    shape = (n, steps, h1)
    return {
        "delta": delta.reshape(n, steps, h0),
        "consumer.acc": np.asarray(phase["accs"], dtype=np.int64).reshape(shape),
        "consumer": np.asarray(phase["outputs"], dtype=np.int64).reshape(shape),
    }


def step_mismatch(cmp: dict) -> dict | None:
    """compare_layers' first mismatch on (N, T, C) tensors as layer / sample / step / index."""
    f = cmp["first_mismatch"]
    if not f:
        return None
    step, index = f["index"]
    return {
        "layer": f["layer"],
        "sample": f["sample"],
        "step": step,
        "index": index,
        "golden": f["golden"],
        "rtl": f.get("rtl", f.get("pytorch")),
    }


def describe(first: dict | None, mismatches: int) -> str:
    if not first:
        return "0 mismatches"
    return (
        f"{mismatches} mismatches; first at layer {first['layer']} sample {first['sample']} "
        f"step {first['step']} index {first['index']}: golden={first['golden']} "
        f"rtl={first['rtl']}"
    )


def cycle_stats(cycles: list[int], events: np.ndarray, man: dict) -> dict:
    """Cycles per frame against events per frame (paced phase) and a straight-line fit."""
    c = np.asarray(cycles, dtype=np.float64)
    e = np.asarray(events, dtype=np.float64).reshape(-1)
    hp = man["params"]
    slope, icept = np.polyfit(e, c, 1) if np.ptp(e) > 0 else (0.0, float(c.mean()))
    r = float(np.corrcoef(e, c)[0, 1]) if np.ptp(e) > 0 and np.ptp(c) > 0 else 0.0
    by_events = [
        [int(k), int((e == k).sum()), round(float(c[e == k].mean()), 1)] for k in np.unique(e)
    ]
    return {
        "cycles_per_frame": float(c.mean()),
        "cycles_per_frame_max": int(c.max()),
        "events_per_frame": float(e.mean()),
        "fit_cycles_per_event": round(float(slope), 3),
        "fit_cycles_intercept": round(float(icept), 2),
        "fit_correlation": round(r, 4),
        "cycles_per_event_ideal": hp["OUT"] // hp["PE"],
        "cycles_per_frame_if_dense": round(float(slope * hp["N"] + icept), 1),
        "dense_consumer_cycles_per_frame": hp["N"] * hp["OUT"] // hp["PE"],
        "by_events": by_events,  # [events in the frame, frames, mean cycles]
    }


def simulate(
    graph: Graph,
    front: np.ndarray,
    golden_tensors: dict[str, np.ndarray],
    rtl_dir: str | Path,
    build_dir: str | Path,
    simulator: str = "verilator",
    phases: tuple[str, ...] = ("paced", "stream"),
    seed: int = 5,
) -> dict:
    """Run the bench on `front` codes (N, T, h0); compare with the golden tensors per step."""
    from codesign.verify.runner import run_bench

    params = delta_net(graph)
    rtl_dir, build_dir = Path(rtl_dir).resolve(), Path(build_dir).resolve()
    man = rtl_manifest.load(rtl_dir, "delta")
    hp = man["params"]
    front = np.asarray(front, dtype=np.int64)
    n, steps, h0 = front.shape
    if h0 != hp["N"] or golden_tensors["consumer"].shape[2] != hp["OUT"]:
        raise CodesignError(f"RTL at {rtl_dir} was written for another layer shape")
    if params.theta > 2 ** hp["A_W"] - 1:
        raise CodesignError(
            f"threshold {params.theta} does not fit the encoder's {hp['A_W']}-bit theta port"
        )
    build_dir.mkdir(parents=True, exist_ok=True)
    out = build_dir / "delta_results.json"
    out.unlink(missing_ok=True)
    cfg = {
        "frames": front.tolist(),
        "theta": int(params.theta),
        "OUT": hp["OUT"],
        "PE": hp["PE"],
        "OUT_W": hp["OUT_W"],
        "ACC_W": hp["ACC_W"],
        "LO": hp["LO"],
        "phases": list(phases),
        "seed": seed,
        "out": str(out),
    }
    vparams = {**hp, **{k: f'"{v}"' for k, v in TABLES.items()}}
    t0 = time.time()
    res = run_bench(
        [rtl_dir / s for s in man["sources"]], TOP, "delta_tb", build_dir, simulator, vparams, cfg
    )
    seconds = time.time() - t0
    if res["failed"] or not out.is_file():
        raise CodesignError(f"delta RTL simulation failed (log: {res['log']})")
    results = json.loads(out.read_text())
    report: dict = {
        "simulator": simulator,
        "samples": n,
        "phases": {},
        "sim_seconds": round(seconds, 1),
    }
    total, first = 0, None
    for ph in phases:
        rtl = to_tensors(results[ph], n, steps, h0, hp["OUT"])
        cmp = compare_layers(golden_tensors, rtl, RTL_LAYERS, "golden", "rtl")
        total += cmp["mismatches"]
        first = first or step_mismatch(cmp)
        report["phases"][ph] = {"mismatches": cmp["mismatches"], "layers": cmp["layers"]}
    report["mismatches"] = total
    report["first_mismatch"] = first
    if "paced" in results:
        ev = (golden_tensors["delta"] != 0).sum(axis=2)
        report["cycles"] = cycle_stats(results["paced"]["cycles"], ev, man)
    return report
