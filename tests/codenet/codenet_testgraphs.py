"""Building CoDeNet graphs by hand in tests: one layer spec per call (codesign/codenet/graph.py)."""

from __future__ import annotations

import numpy as np


def spec(
    name: str,
    kind: str,
    src: str,
    weight,
    scale,
    bias,
    relu: bool,
    out_exp: int,
    out_zp: int,
    bits: int,
    s_src: str | None = None,
    codebook=None,
) -> dict:
    return {
        "name": name,
        "kind": kind,
        "src": src,
        "weight": np.asarray(weight),
        "scale": np.asarray(scale),
        "bias": np.asarray(bias),
        "relu": relu,
        "out_exp": out_exp,
        "out_zp": out_zp,
        "weight_bits": bits,
        "s_src": s_src,
        "codebook": codebook,
    }
