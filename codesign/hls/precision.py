"""Fixed-point types for hls4ml, derived from the integer graph so that C-simulation is exact.

hls4ml computes in `ap_fixed<W, I>` (W bits, I of them integer bits, W - I fractional). A layer
is bit-exact when every intermediate type holds every value it can see without rounding or
overflow, and the one rounding step (the activation quantizer: `AP_RND_CONV` = round half to
even, `AP_SAT`) sees the exact pre-rounding value. For layer l with input scale 2**e_in:

    dense   acc = (W_int . x_q + bias_int) * 2**e_in          frac bits -e_in,  acc_bits wide
    scale   s_w[c] = m[c] * 2**(e_out - e_in - shift[c])      (exact dyadic: the requant multiplier)
    product acc * s_w[c]                                      frac bits -e_in + F_s
    quant   round_half_even(product / 2**e_out) clamped       = the golden requantisation

Widths come from worst-case bounds over the input range, never from data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import symmetric_bits
from codesign.ir.graph import DenseLayer, QuantSpec

MAX_AP_WIDTH = 1024  # ap_fixed's default AP_INT_MAX_W


def ap_fixed(width: int, integer: int, signed: bool = True) -> str:
    return f"{'' if signed else 'u'}fixed<{width},{integer}>"


def act_type(q: QuantSpec) -> str:
    """The activation grid q * 2**scale_exp: `bits` wide, -scale_exp fractional bits."""
    return ap_fixed(q.bits, q.bits + q.scale_exp, q.signed)


@dataclass(frozen=True)
class LayerTypes:
    """hls4ml precision strings for one integer layer (dense -> per-channel scale -> quant)."""

    name: str
    weight: str
    bias: str
    accum: str
    scale: str
    scaled: str
    out: str
    scale_values: np.ndarray  # s_w[c] as float64 (exact dyadics)
    bias_values: np.ndarray  # bias_int * 2**e_in as float64 (exact)


def layer_types(layer: DenseLayer) -> LayerTypes:
    """Exact types for one layer (worst case over the whole input range)."""
    e_in, e_out = layer.in_q.scale_exp, layer.out_q.scale_exp
    rq = layer.requant
    k = rq.shift.astype(np.int64) - (e_out - e_in)  # s_w[c] = m[c] / 2**k[c]
    f_s = max(0, int(k.max()))
    s_int = [int(m) << (f_s - int(kc)) for m, kc in zip(rq.multiplier, k, strict=True)]
    w_s = max(symmetric_bits(v) for v in s_int)
    scale_values = np.array(
        [float(m) * 2.0 ** (-int(kc)) for m, kc in zip(rq.multiplier, k, strict=True)]
    )

    xmax = max(abs(layer.in_q.lo), abs(layer.in_q.hi))
    acc_bound = np.abs(layer.weight).sum(axis=1) * xmax + np.abs(layer.bias)
    acc_w = symmetric_bits(int(acc_bound.max()))
    f_acc = -e_in
    prod_bound = max(int(a) * v for a, v in zip(acc_bound, s_int, strict=True))
    prod_w = symmetric_bits(prod_bound)
    f_prod = f_acc + f_s
    bias_w = symmetric_bits(int(np.abs(layer.bias).max()))
    if max(prod_w, acc_w, w_s) > MAX_AP_WIDTH:
        raise CodesignError(
            f"layer '{layer.name}': exact hls4ml types need {max(prod_w, acc_w, w_s)} bits "
            f"(> ap_fixed's {MAX_AP_WIDTH})"
        )
    return LayerTypes(
        name=layer.name,
        weight=ap_fixed(layer.weight_int_bits, layer.weight_int_bits),
        bias=ap_fixed(bias_w, bias_w - f_acc),
        accum=ap_fixed(acc_w, acc_w - f_acc),
        scale=ap_fixed(w_s, w_s - f_s),
        scaled=ap_fixed(prod_w, prod_w - f_prod),
        out=act_type(layer.out_q),
        scale_values=scale_values,
        bias_values=layer.bias.astype(np.float64) * 2.0**e_in,
    )
