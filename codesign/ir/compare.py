"""Layer-by-layer comparison of integer tensors: the one checker every backend reports through.

A mismatch report names the first layer (in data-flow order) that differs, the sample, the element
index and both values, so a user sees where a backend departs from the golden model.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError


def compare_layers(
    reference: dict[str, np.ndarray],
    candidate: dict[str, np.ndarray],
    order: list[str] | None = None,
    ref_name: str = "golden",
    cand_name: str = "candidate",
) -> dict:
    """Count differing integers per layer; `first_mismatch` locates the earliest one."""
    order = order or [k for k in reference if k in candidate]
    per_layer: dict[str, int] = {}
    first = None
    for name in order:
        if name not in reference or name not in candidate:
            raise CodesignError(
                f"layer '{name}' missing from the {ref_name} or {cand_name} tensors"
            )
        r, c = np.asarray(reference[name]), np.asarray(candidate[name])
        if r.shape != c.shape:
            raise CodesignError(
                f"layer '{name}': {ref_name} shape {r.shape} != {cand_name} shape {c.shape}"
            )
        diff = r != c
        per_layer[name] = int(diff.sum())
        if first is None and diff.any():
            pos = np.argwhere(diff)[0]
            sample, index = int(pos[0]), tuple(int(p) for p in pos[1:])
            first = {
                "layer": name,
                "sample": sample,
                "index": index[0] if len(index) == 1 else list(index),
                ref_name: int(r[tuple(pos)]),
                cand_name: int(c[tuple(pos)]),
            }
    return {"mismatches": sum(per_layer.values()), "layers": per_layer, "first_mismatch": first}


def describe(report: dict, ref_name: str = "golden", cand_name: str = "candidate") -> str:
    """One line for humans: 'fc1 sample 3 index 17: golden=12 candidate=13' or '0 mismatches'."""
    f = report.get("first_mismatch")
    if not f:
        return "0 mismatches"
    return (
        f"{report['mismatches']} mismatches; first at layer {f['layer']} sample {f['sample']} "
        f"index {f['index']}: {ref_name}={f[ref_name]} {cand_name}={f[cand_name]}"
    )
