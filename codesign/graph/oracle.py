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
from codesign.graph.frontends.qonnx import Imported


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


def compare(imp: Imported, golden: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict:
    """Per tap: mismatching integers and the first one. Quantizer outputs and graph outputs
    must be equal integers; a linear op's output is a float32 sum in qonnx, so there we report
    how far qonnx's value is from our integer (`max_float_deviation`, in integer steps)."""
    rows = []
    for tap in imp.taps:
        g = golden[tap.tensor]
        y = np.asarray(ref[tap.onnx], dtype=np.float64).reshape(g.shape)
        rec = (y - tap.offset) / tap.scale
        dev = np.abs(rec - g)
        row = {
            "layer": tap.tensor,
            "onnx_tensor": tap.onnx,
            "kind": tap.kind,
            "values": int(g.size),
            "max_float_deviation": float(dev.max(initial=0.0)),
        }
        if tap.kind == "output_sum":  # a float32 sum in qonnx: within a reported tolerance
            row["tolerance"] = SUM_TOLERANCE * float(np.abs(g).max(initial=1))
            bad = np.argwhere(dev > row["tolerance"])
        else:
            bad = np.argwhere(np.rint(rec) != g)
        if tap.kind != "acc":
            row["mismatches"] = int(len(bad))
            if len(bad):
                idx = tuple(int(i) for i in bad[0])
                row["first"] = {
                    "index": list(idx),
                    "golden": int(g[idx]),
                    "reference": float(rec[idx]),
                }
                row["tie_distance"] = _tie_distance(imp, tap.tensor, golden, bad)
        rows.append(row)
    checked = [r for r in rows if "mismatches" in r]
    first = next((r for r in checked if r["mismatches"]), None)
    return {
        "mismatches": sum(r["mismatches"] for r in checked),
        "first_mismatch_layer": first["layer"] if first else None,
        "layers": rows,
    }


def _tie_distance(imp: Imported, tensor: str, golden: dict, bad: np.ndarray) -> float | None:
    """For a Requant output: the largest distance, in quantization steps, of the exact
    pre-rounding value x * a + b from a rounding boundary, over the mismatching elements. A
    tiny value means qonnx's float32 arithmetic decided a near-tie (its inexactness, not ours)."""
    node = imp.graph.producer(tensor)
    if node is None or node.op != "Requant" or "ratio_a" not in node.attrs:
        return None
    from fractions import Fraction

    x = golden[node.inputs[0]]
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
            return (
                f"layer '{r['layer']}' (ONNX '{r['onnx_tensor']}'): {r['mismatches']} of "
                f"{r['values']} integers differ; first at index {tuple(f['index'])}: golden "
                f"{f['golden']}, qonnx {f['reference']:g}{why}"
            )
    return "no mismatch"


def require_taps(imp: Imported) -> None:
    if not imp.taps:
        raise CodesignError(f"'{imp.graph.name}' has no tensor to compare with qonnx")
