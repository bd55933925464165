"""ASQ hardware vs the golden model: cs_asq and cs_requant (DYN = 1) under Verilator (cocotb benches
hw/tb/tb_asq.py, hw/tb/tb_requant_dyn.py), compared tensor by tensor with codesign.ir.compare.

The stage is checked on "<layer>.h" (adapter hidden codes), "<layer>.g" (adapter output) and
"<layer>" (the q codes), in that data-flow order, so a fault is named where it first shows.
The consumer's dynamic requantiser is checked on its layer's output ("<next>.pre" when that layer
has its own ASQ stage, else "<next>").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codesign import golden_io
from codesign.errors import ArgumentParser, CodesignError, at_least
from codesign.ir.compare import compare_layers, describe
from codesign.ir.golden import matmul_exact
from codesign.ir.graph import DenseLayer, IntGraph
from codesign.quant.asq_int import AsqIntStage
from codesign.rtl.asq_hw import AsqHW, dyn_requant_params
from codesign.rtl.hexmem import hex_lines, read_hex
from codesign.rtl.toolenv import HW_RTL
from codesign.verify.runner import run_capture

ASQ_SOURCES = ("cs_requant_core.v", "cs_asq.v")
DYN_SOURCES = ("cs_requant_core.v", "cs_requant.v")
PASSES = ("latency", "stream", "stall")


def _quoted(params: dict) -> dict:
    return {k: (f'"{v}"' if isinstance(v, str) else v) for k, v in params.items()}


def stage_tensors(layer: str) -> list[str]:
    return [f"{layer}.h", f"{layer}.g", layer]


def write_stage(stage: AsqIntStage, out_dir: Path, in_beat: int = 1, lanes: int = 1) -> dict:
    """Tables + parameters of cs_asq for `stage` under out_dir/mem (returns the AsqHW fields)."""
    hw = AsqHW(stage, in_beat, lanes)
    files = hw.write_tables(Path(out_dir) / "mem")
    return {"hw": hw, "files": files, "params": hw.verilog_params(files)}


def flip_adapter_weight_bit(files: dict[str, str], stage: AsqIntStage, j: int, c: int, bit: int):
    """Flip bit `bit` of the stored W1[j][c] (cs_asq W1_FILE: word c, lane j); a planted fault."""
    if not (0 <= j < stage.hidden and 0 <= c < stage.channels and 0 <= bit < 8):
        raise CodesignError(f"ASQ stage of '{stage.layer}': no weight bit ({j}, {c}, {bit})")
    path = Path(files["w1"])
    words = read_hex(path)
    words[c] ^= 1 << (j * 8 + bit)
    path.write_text(hex_lines(words, 8 * stage.hidden))


def simulate_stage(
    stage: AsqIntStage,
    golden: dict[str, np.ndarray],
    out_dir: str | Path,
    samples: int | None = None,
    in_beat: int = 1,
    lanes: int = 1,
    seed: int = 0,
    written: dict | None = None,
) -> dict:
    """Run cs_asq on golden["<layer>.pre"] and compare h, g and q in three passes.

    `written` reuses tables from write_stage (e.g. after flip_adapter_weight_bit).
    """
    out_dir = Path(out_dir).resolve()
    name = stage.layer
    need = [f"{name}.pre", *stage_tensors(name)]
    if any(k not in golden for k in need):
        raise CodesignError(f"golden tensors lack one of {need} (run the golden model first)")
    u = golden[f"{name}.pre"]
    n = u.shape[0] if samples is None else min(int(samples), u.shape[0])
    written = written or write_stage(stage, out_dir, in_beat, lanes)
    hw: AsqHW = written["hw"]
    cfg = {
        "IN_BEAT": hw.in_beat,
        "U_W": stage.u_bits,
        "LANES": hw.lanes,
        "BITS": stage.bits,
        "H": stage.hidden,
        "H_W": 8,
        "seed": seed,
    }
    cap = run_capture(
        [HW_RTL / s for s in ASQ_SOURCES],
        "cs_asq",
        "tb_asq",
        out_dir,
        u[:n],
        cfg,
        parameters=_quoted(written["params"]),
        seed=seed,
    )
    order = stage_tensors(name)
    passes, first, total = {}, None, 0
    for pas in PASSES:
        cnt = cap[f"{pas}__q"].shape[0]
        ref = {k: golden[k][:cnt] for k in order}
        rtl = {name: cap[f"{pas}__q"], f"{name}.g": cap[f"{pas}__g"], f"{name}.h": cap[f"{pas}__h"]}
        rep = compare_layers(ref, rtl, order, "golden", "rtl")
        passes[pas] = {"samples": cnt, "mismatches": rep["mismatches"], "layers": rep["layers"]}
        total += rep["mismatches"]
        if first is None and rep["first_mismatch"]:
            first = dict(rep["first_mismatch"], run=pas)
    lat = cap["latency__t_out"] - cap["latency__t_in"] + 1
    t_out = cap["stream__t_out"]
    return {
        "layer": name,
        "samples": n,
        "mismatches": total,
        "first_mismatch": first,
        "summary": describe({"mismatches": total, "first_mismatch": first}, "golden", "rtl"),
        "passes": passes,
        "cycles_per_vector": float(lat.mean()),
        "cycles_model": hw.cycles,
        "interval_cycles": float((t_out[-1] - t_out[0]) / (t_out.size - 1)) if n > 1 else None,
        "in_beat": hw.in_beat,
        "lanes": hw.lanes,
        "params": {k: v for k, v in written["params"].items() if not k.endswith("_FILE")},
    }


def simulate_requant_dyn(
    layer: DenseLayer,
    x: np.ndarray,
    g: np.ndarray,
    expected: np.ndarray,
    out_dir: str | Path,
    seed: int = 1,
) -> dict:
    """cs_requant (DYN = 1) on the layer's raw dot products W @ x, the samples' g; vs `expected`."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    params = dyn_requant_params(layer)
    raw = matmul_exact(np.asarray(x, dtype=np.int64), layer.weight.T)  # (n, out)
    n, m = raw.shape
    rq = layer.requant
    beats = {
        "acc": raw.reshape(-1),
        "g": np.repeat(np.asarray(g, dtype=np.int64), m),
        "bias": np.tile(layer.bias, n),
        "mult": np.tile(rq.multiplier, n),
        "shift": np.tile(rq.shift, n),
    }
    cap = run_capture(
        [HW_RTL / s for s in DYN_SOURCES],
        "cs_requant",
        "tb_requant_dyn",
        out_dir,
        beats,
        params,
        parameters=params,
        seed=seed,
    )
    q = cap["q"].reshape(n, m)
    rep = compare_layers({layer.name: expected[:n]}, {layer.name: q}, None, "golden", "rtl")
    return {
        "layer": layer.name,
        "samples": n,
        "mismatches": rep["mismatches"],
        "first_mismatch": rep["first_mismatch"],
        "summary": describe(rep, "golden", "rtl"),
        "params": params,
    }


def simulate_graph_stages(
    graph: IntGraph,
    golden: dict[str, np.ndarray],
    out_dir: str | Path,
    samples: int | None = None,
    in_beat: int = 1,
    lanes: int = 1,
) -> dict:
    """Every ASQ stage of a graph and every dyn_in consumer, against the golden tensors."""
    out_dir = Path(out_dir)
    rows, prev_stage = [], None
    for lay in graph.layers:
        if lay.dyn_in and prev_stage is not None:
            n = golden[prev_stage.layer].shape[0] if samples is None else samples
            key = f"{lay.name}.pre" if lay.out_stage is not None else lay.name
            rows.append(
                simulate_requant_dyn(
                    lay,
                    golden[prev_stage.layer][:n],
                    golden[f"{prev_stage.layer}.g"][:n],
                    golden[key][:n],
                    out_dir / f"{lay.name}_dyn",
                )
            )
        st = lay.out_stage
        prev_stage = st if isinstance(st, AsqIntStage) else None
        if prev_stage is not None:
            rows.append(
                simulate_stage(st, golden, out_dir / f"{lay.name}_asq", samples, in_beat, lanes)
            )
    if not rows:
        raise CodesignError(f"graph '{graph.name}' has no ASQ stage")
    return {
        "mismatches": sum(r["mismatches"] for r in rows),
        "units": rows,
    }


def main(argv: list[str]) -> int:
    """`codesign asq <model>`: every ASQ stage (cs_asq) and dynamic requantiser
    (cs_requant, DYN = 1) of the exported model under Verilator vs its golden tensors."""
    import sys

    from codesign.atomic import write_json
    from codesign.paths import build_root

    ap = ArgumentParser(prog="codesign asq", description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument(
        "--samples", type=at_least(1), default=None, help="first N samples (default all)"
    )
    ap.add_argument("--in-beat", type=at_least(1), default=8, help="u codes per input beat")
    ap.add_argument(
        "--lanes", type=at_least(1), default=4, help="parallel dividers (q codes per beat)"
    )
    ap.add_argument("--build-dir", default=str(build_root()))
    a = ap.parse_args(argv)
    root = Path(a.build_dir) / a.model
    try:
        from codesign.ir.chain import load_int_graph

        graph = load_int_graph(root / "onnx" / "model.onnx", a.model)
        gold = golden_io.load(root / "golden" / golden_io.FILE, model=a.model)
        rep = simulate_graph_stages(graph, gold, root / "asq_rtl", a.samples, a.in_beat, a.lanes)
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2
    out = root / "reports" / "asq_rtl.json"
    write_json(out, {"model": a.model, **rep})
    for u in rep["units"]:
        cyc = f", {u['cycles_per_vector']:.0f} cycles/vector" if "cycles_per_vector" in u else ""
        kind = "cs_asq" if "cycles_per_vector" in u else "cs_requant DYN=1"
        print(f"{u['layer']} {kind}: {u['samples']} samples, {u['summary']}{cyc}")
    print(f"-> {out}")
    return 0 if rep["mismatches"] == 0 else 1
