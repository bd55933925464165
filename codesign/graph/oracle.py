"""qonnx's own executor as the independent oracle of the golden model, tensor by tensor.

`qonnx.core.onnx_exec.execute_onnx` runs the original QONNX graph in float (onnxruntime for the
standard ops, numpy for Quant). Every tap of an import names an ONNX tensor whose value is an
exact affine function of one of our integer tensors; we invert it and compare integers. A
mismatch names the layer, the index and both values.
"""

from __future__ import annotations

import numpy as np
import onnx

from codesign.errors import CodesignError
from codesign.graph.frontends.qonnx import MOVES, Imported


def qonnx_execute(model: onnx.ModelProto, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor of the QONNX graph on a batch of float inputs, by qonnx's executor (float32:
    qonnx's Quant returns float32 whatever it is given)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes

    mw = ModelWrapper(onnx.ModelProto.FromString(model.SerializeToString()))
    mw = mw.transform(ChangeBatchSize(len(x))).transform(InferShapes())
    inits = {t.name for t in mw.graph.initializer}
    name = next(i.name for i in mw.graph.input if i.name not in inits)
    return execute_onnx(mw, {name: np.asarray(x, dtype=np.float32)}, True)


# A graph output that is a linear op's sum on a grid finer than float32 holds (integers beyond
# 2^24): qonnx's float32 sum can only approximate it, so it is compared within this fraction of
# the tensor's largest magnitude (2^-16: float32's 2^-24 times sums of up to 2^8 terms' worth of
# rounding). The tolerance is reported with the row.
SUM_TOLERANCE = 2.0**-16


def compare(
    imp: Imported,
    golden: dict[str, np.ndarray],
    ref: dict[str, np.ndarray],
    offset: int = 0,
    tolerances: dict[str, float] | None = None,
) -> dict:
    """Per tap: mismatching integers and the first one. Quantizer outputs and graph outputs
    must be equal integers; a linear op's output is a float32 sum in qonnx, so there we report
    how far qonnx's value is from our integer (`max_float_deviation`, in integer steps).

    `local_mismatches` (`local_max_float_deviation` for a sum off by half a step or more): the
    same with the tap's own op fed qonnx's values of its inputs (when they are taps too), so a
    layer is charged only with what it decides itself, not with differences it inherits.
    `offset`: the batch index of golden's first sample; `tolerances`: per output_sum tap, the
    tolerance to use (compare_in_batches: one over all batches)."""
    taps = {t.tensor: t for t in imp.taps}
    rows = []
    for tap in imp.taps:
        g = golden[tap.tensor]
        rec = _integers(tap, ref, g.shape)
        dev = np.abs(rec - g)
        row = {
            "layer": tap.tensor,
            "onnx_tensor": tap.onnx,
            "kind": tap.kind,
            "values": int(g.size),
            "max_float_deviation": float(dev.max(initial=0.0)),
        }
        if tap.kind == "output_sum":  # a float32 sum in qonnx: within a reported tolerance
            row["tolerance"] = (tolerances or {}).get(
                tap.tensor, SUM_TOLERANCE * float(np.abs(g).max(initial=1))
            )
            bad = np.argwhere(dev > row["tolerance"])
        else:
            bad = np.argwhere(np.rint(rec) != g)
        if tap.kind == "acc":  # a sum off by half a step or more: is it this layer's doing?
            if row["max_float_deviation"] >= 0.5:
                local = _producer_on_qonnx(imp, tap.tensor, taps, ref, len(g))
                row["local_max_float_deviation"] = (
                    None if local is None else float(np.abs(rec - local[1]).max(initial=0.0))
                )
        else:
            row["mismatches"] = int(len(bad))
            row["local_mismatches"] = 0
            if len(bad):
                idx = tuple(int(i) for i in bad[0])
                row["first"] = {
                    "index": [idx[0] + offset, *idx[1:]],
                    "golden": int(g[idx]),
                    "reference": float(rec[idx]),
                }
                node = imp.graph.producer(tap.tensor)
                x = None if node is None else golden[node.inputs[0]]
                row["tie_distance"] = _tie_distance(node, x, bad)
                local = _producer_on_qonnx(imp, tap.tensor, taps, ref, len(g))
                if local is None:
                    row["local_mismatches"] = None
                else:
                    xs, out = local
                    lbad = np.argwhere(np.rint(rec) != out)
                    row["local_mismatches"] = int(len(lbad))
                    if len(lbad):
                        row["local_tie_distance"] = _tie_distance(node, xs[0], lbad)
        rows.append(row)
    return _totals(rows)


def _integers(tap, ref: dict[str, np.ndarray], shape) -> np.ndarray:
    """qonnx's value of a tapped tensor, mapped back to our integer grid (float64)."""
    y = np.asarray(ref[tap.onnx], dtype=np.float64).reshape(shape)
    return (y - tap.offset) / tap.scale


def _producer_on_qonnx(
    imp: Imported, name: str, taps: dict, ref: dict, n: int
) -> tuple[list[np.ndarray], np.ndarray] | None:
    """The producer of `name` run on qonnx's own values of its inputs (rounded to our grid):
    (those inputs, its output), or None when an input is neither a tap nor data movement of
    taps (nothing of qonnx's to feed it)."""
    from codesign.graph.execute import run_op

    node = imp.graph.producer(name)
    if node is None:
        return None
    xs = [_qonnx_value(imp, i, taps, ref, n) for i in node.inputs]
    if any(x is None for x in xs):
        return None
    return xs, run_op(node.op, xs, node.attrs, node.params)[node.outputs.index(name)]


def _qonnx_value(imp: Imported, name: str, taps: dict, ref: dict, n: int) -> np.ndarray | None:
    """qonnx's value of a tensor on our grid: a tap's own, or a reshape or pixel shuffle of
    taps (data movement moves qonnx's values as they are)."""
    if name in taps:
        return np.rint(_integers(taps[name], ref, (n, *imp.graph.tensors[name].shape))).astype(
            np.int64
        )
    node = imp.graph.producer(name)
    if node is None or node.op not in MOVES:
        return None
    moved = _producer_on_qonnx(imp, name, taps, ref, n)
    return None if moved is None else moved[1]


def _totals(rows: list[dict]) -> dict:
    checked = [r for r in rows if "mismatches" in r]
    first = next((r for r in checked if r["mismatches"]), None)
    return {
        "mismatches": sum(r["mismatches"] for r in checked),
        "first_mismatch_layer": first["layer"] if first else None,
        "layers": rows,
    }


def compare_in_batches(
    imp: Imported, x: np.ndarray, golden: dict[str, np.ndarray] | None = None, batch: int = 16
) -> dict:
    """compare() over x in batches (golden run here unless given): qonnx's executor keeps every
    tensor of a batch, which for image models (ESPCN: 1 M values per image and layer) does not
    fit at 100 inputs. Counts add up; deviations, tolerances and tie distances take the
    largest; the first mismatch is the first in input order."""
    from codesign.graph import execute

    def golden_of(start: int) -> dict[str, np.ndarray]:
        if golden is None:
            return execute.run(imp.graph, x[start : start + batch])
        return {k: v[start : start + batch] for k, v in golden.items()}

    sums = [t.tensor for t in imp.taps if t.kind == "output_sum"]
    tolerances = None
    if sums:  # the tolerance scales with the largest value over every input, not per batch
        peak = dict.fromkeys(sums, 1.0)
        for start in range(0, len(x), batch):
            gb = golden_of(start)
            for k in sums:
                peak[k] = max(peak[k], float(np.abs(gb[k]).max(initial=1)))
        tolerances = {k: SUM_TOLERANCE * v for k, v in peak.items()}
    merged: list[dict] | None = None
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        rows = compare(imp, golden_of(start), qonnx_execute(imp.model, xb), start, tolerances)[
            "layers"
        ]
        merged = (
            rows if merged is None else [_merge(a, b) for a, b in zip(merged, rows, strict=True)]
        )
    return _totals(merged or [])


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    out["values"] = a["values"] + b["values"]
    for k in (
        "max_float_deviation",
        "local_max_float_deviation",
        "tolerance",
        "tie_distance",
        "local_tie_distance",
    ):
        vals = [r[k] for r in (a, b) if r.get(k) is not None]
        if vals:
            out[k] = max(vals)
    for k in ("mismatches", "local_mismatches"):
        if k in a:
            out[k] = None if a[k] is None or b[k] is None else a[k] + b[k]
    if "first" not in a and "first" in b:
        out["first"] = b["first"]
    return out


def _tie_distance(node, x: np.ndarray, bad: np.ndarray) -> float | None:
    """For a Requant fed x: the largest distance, in quantization steps, of the exact
    pre-rounding value x * a + b from a rounding boundary, over the mismatching elements. A
    tiny value means qonnx's float32 arithmetic decided a near-tie (its inexactness, not ours)."""
    if node is None or node.op != "Requant" or "ratio_a" not in node.attrs:
        return None
    from fractions import Fraction

    a = [Fraction(v) for v in node.attrs["ratio_a"]]
    b = [Fraction(v) for v in node.attrs["ratio_b"]]
    worst = 0.0
    for idx in bad[:1000]:
        idx = tuple(int(i) for i in idx)
        c = idx[1] if len(a) > 1 else 0
        v = int(x[idx]) * a[c] + b[c]
        worst = max(worst, float(abs(v - (v.__floor__() + Fraction(1, 2)))))
    return worst


def describe(report: dict) -> str:
    """One line naming the first mismatching layer, index and both values."""
    for r in report["layers"]:
        if r.get("mismatches"):
            f = r["first"]
            tie = r.get("tie_distance")
            why = "" if tie is None else f" (exact value {tie:.2g} steps from a rounding tie)"
            local = r.get("local_mismatches")
            if local is not None and local != r["mismatches"]:
                why += f"; {local} of them with qonnx's own inputs to this layer"
            return (
                f"layer '{r['layer']}' (ONNX '{r['onnx_tensor']}'): {r['mismatches']} of "
                f"{r['values']} integers differ; first at index {tuple(f['index'])}: golden "
                f"{f['golden']}, qonnx {f['reference']:g}{why}"
            )
    return "no mismatch"


def require_taps(imp: Imported) -> None:
    if not imp.taps:
        raise CodesignError(f"'{imp.graph.name}' has no tensor to compare with qonnx")
