"""Activity measured on the integer golden model: op counts and bit-toggle rates per layer.

Why: energy = sum over actions of count x energy, and the counts should come from running the
network, not from its shape alone. From the golden tensors of the test split we count, per layer
and per inference: MACs, MACs whose activation is non-zero (what a zero-skipping datapath
would do), weight and activation bits read, outputs requantised; and the toggle rate of the
layer's input and output words (fraction of bits that flip between consecutive inferences
streamed back to back), which drives FPGA dynamic energy when no RTL trace is used.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.graph import IntGraph


def toggle_rate(x: np.ndarray, bits: int) -> float:
    """Mean fraction of the `bits` low bits (two's complement) flipping between consecutive rows.

    `x` is (samples, features); rows are consecutive words on the same wires.
    """
    x = np.asarray(x, dtype=np.int64)
    if x.ndim != 2 or x.shape[0] < 2 or bits <= 0:
        return 0.0
    mask = (1 << bits) - 1
    u = x & mask
    diff = u[1:] ^ u[:-1]
    flips = sum(int(((diff >> b) & 1).sum()) for b in range(bits))
    return flips / (diff.size * bits)


def layer_activity(graph: IntGraph, tensors: dict[str, np.ndarray]) -> list[dict]:
    """Per-layer, per-inference counts from golden tensors (`tensors["input"]`, one per layer)."""
    if "input" not in tensors:
        raise CodesignError("golden tensors: key 'input' missing")
    prev = "input"
    rows = []
    for lay in graph.layers:
        if lay.name not in tensors:
            raise CodesignError(f"golden tensors: layer '{lay.name}' missing")
        x = np.asarray(tensors[prev], dtype=np.int64).reshape(len(tensors[prev]), -1)
        y = np.asarray(tensors[lay.name], dtype=np.int64).reshape(len(tensors[lay.name]), -1)
        if x.shape[1] != lay.in_features:
            raise CodesignError(
                f"golden tensors: '{prev}' has {x.shape[1]} features, layer '{lay.name}' "
                f"takes {lay.in_features}"
            )
        n = x.shape[0]
        nz_in = int((x != 0).sum())
        rows.append(
            {
                "layer": lay.name,
                "samples": n,
                "macs": int(lay.macs),
                "nonzero_macs": nz_in * lay.out_features / n,
                "input_density": nz_in / x.size,
                "weight_bits_read": int(lay.macs * lay.weight_bits),
                "act_bits_read": int(lay.in_features * lay.in_q.bits),
                "outputs": int(lay.out_features),
                "in_toggle_rate": toggle_rate(x, lay.in_q.bits),
                "out_toggle_rate": toggle_rate(y, lay.out_q.bits),
            }
        )
        prev = lay.name
    return rows


def mean_toggle_rate(rows: list[dict]) -> float:
    """Bit-weighted mean toggle rate over every layer's input and output stream."""
    num = den = 0.0
    for r in rows:
        num += r["in_toggle_rate"] * r["act_bits_read"]
        den += r["act_bits_read"]
    return num / den if den else 0.0
