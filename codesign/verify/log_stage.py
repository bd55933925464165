"""AdaLog encoder/decoder RTL units against the golden model's recorded tensors.

For every layer whose out_stage is an AdaLog encoder, cs_log_encode gets the golden "<layer>.pre"
(u) and must reproduce "<layer>" (codes); cs_log_decode gets those codes and must reproduce
"<consumer>.in" (the decoded values the consumer's matmul sees). Both run under Verilator (or
Icarus) through hw/tb/tb_log_stage.py, each inside the parameter-free wrapper top that
codesign.rtl.stage_hw.standalone writes (tables are Verilog parameters), with random gaps and
back-pressure; the comparison goes through codesign.ir.compare, so a mismatch names tensor,
sample and index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.compare import compare_layers, describe
from codesign.ir.graph import IntGraph
from codesign.quant.adalog_rule import LogQuantSpec
from codesign.rtl.stage_hw import StageUnit, decoder_unit, encoder_unit, standalone
from codesign.verify.runner import run_capture


def unit_for(
    unit: str, spec: LogQuantSpec, lanes: int, table: list[int] | None = None
) -> StageUnit:
    """cs_log_encode ("encode") or cs_log_decode ("decode") for `spec`; `table` replaces its
    thresholds or LUT (fault planting)."""
    if unit == "encode":
        return encoder_unit(spec, lanes, "adalog_enc", thresholds=table)
    if unit == "decode":
        return decoder_unit(spec, lanes, "adalog_dec", lut=table)
    raise CodesignError(f"unknown AdaLog unit '{unit}' (encode or decode)")


def run_unit(
    unit: StageUnit,
    x: np.ndarray,
    build_dir: str | Path,
    simulator: str = "verilator",
    seed: int = 0,
    gap_p: float = 0.3,
    bp_p: float = 0.3,
) -> np.ndarray:
    """Stream x (samples, features) through one unit; returns its outputs, same shape."""
    x = np.asarray(x, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] % unit.lanes:
        raise CodesignError(f"{unit.module}: {unit.lanes} lanes do not divide input {x.shape}")
    d = Path(build_dir).resolve()
    rtl = standalone(unit, d / "rtl")
    cfg = {
        "LANES": unit.lanes,
        "IN_W": unit.in_w,
        "OUT_W": unit.out_w,
        "seed": seed,
        "gap_p": gap_p,
        "bp_p": bp_p,
    }
    top = f"{unit.name}_top"
    srcs = [rtl / unit.lib, rtl / f"{top}.v"]
    cap = run_capture(
        srcs, top, "tb_log_stage", d, x, cfg, simulator, seed=seed, require_pass=False
    )
    out = cap["out"]
    full = np.full(x.size, -1, dtype=np.int64)  # -1: an element the RTL never produced
    full[: min(out.size, x.size)] = out[: x.size]
    return full.reshape(x.shape)


def adalog_layers(graph: IntGraph) -> list[tuple[str, str, LogQuantSpec]]:
    """(producer, consumer, spec) for every AdaLog encoder/decoder pair in the graph."""
    out = []
    for lay, nxt in zip(graph.layers, graph.layers[1:], strict=False):
        enc, dec = lay.out_stage, nxt.in_stage
        if getattr(enc, "kind", None) == "adalog_encode":
            if getattr(dec, "kind", None) != "adalog_decode" or dec.spec != enc.spec:
                raise CodesignError(f"layer '{lay.name}': AdaLog encoder without its decoder")
            out.append((lay.name, nxt.name, enc.spec))
    return out


def verify_stages(
    graph: IntGraph,
    golden: dict[str, np.ndarray],
    build_dir: str | Path,
    samples: int | None = None,
    lanes: int = 8,
    simulator: str = "verilator",
    tables: dict[str, dict[str, list[int]]] | None = None,
    producers: list[str] | None = None,
    units: tuple[str, ...] = ("encode", "decode"),
) -> dict:
    """RTL units vs golden for every AdaLog stage (or those after `producers`; only `units`);
    a report with per-tensor mismatch counts. `tables` ({producer: {"encode": thresholds,
    "decode": lut}}) replaces tables, to plant a fault."""
    pairs = adalog_layers(graph)
    if producers is not None:
        unknown = set(producers) - {p for p, _, _ in pairs}
        if unknown:
            raise CodesignError(f"no AdaLog stage after layer(s) {sorted(unknown)}")
        pairs = [p for p in pairs if p[0] in producers]
    if not pairs:
        raise CodesignError(f"graph '{graph.name}' has no AdaLog stage")
    ref, rtl, order = {}, {}, []
    d = Path(build_dir)
    for prod, cons, spec in pairs:
        for key in (f"{prod}.pre", prod, f"{cons}.in"):
            if key not in golden:
                raise CodesignError(f"golden tensors have no '{key}' (run the golden step)")
        n = len(golden[prod]) if samples is None else min(samples, len(golden[prod]))
        tab = (tables or {}).get(prod, {})
        u, codes, dec = (golden[k][:n] for k in (f"{prod}.pre", prod, f"{cons}.in"))
        for unit, key, x, want in (
            ("encode", prod, u, codes),
            ("decode", f"{cons}.in", codes, dec),
        ):
            if unit in units:
                hw = unit_for(unit, spec, lanes, tab.get(unit))
                rtl[key] = run_unit(hw, x, d / prod / unit, simulator)
                ref[key] = want
                order.append(key)
    rep = compare_layers(ref, rtl, order, "golden", "rtl")
    rep["summary"] = describe(rep, "golden", "rtl")
    rep["samples"] = int(len(next(iter(ref.values()))))
    rep["stages"] = [{"producer": p, "consumer": c, **s.as_dict()} for p, c, s in pairs]
    return rep
