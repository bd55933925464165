"""cs_mvu on random layers (every weight mode) and on an accumulator-bound extreme layer."""

import numpy as np
import pytest
from hwtest_util import mvu_bench

from codesign.ir.graph import DenseLayer, QuantSpec, Requant
from codesign.rtl.synthetic import synthetic_inputs, synthetic_mlp


def _first_layer(quantizer: str, sizes, seed: int, signed: bool):
    g = synthetic_mlp(sizes, quantizer=quantizer, seed=seed, signed_input=signed)
    return g.layers[0], synthetic_inputs(g, 40, seed=seed)


def test_lut_weights_unsigned_input_folded():
    # POST base sqrt(2): 4-bit indices + codebook ROM; 32 -> 16, PE 4, SIMD 8, 4-element beats
    lay, x = _first_layer("post", (32, 16, 10), seed=3, signed=False)
    res = mvu_bench("mvu_lut", lay, pe=4, simd=8, in_beat=4, x=x)
    assert res["hw"].wmode == "lut"


@pytest.mark.slow
def test_shift_weights_signed_input_single_fold():
    # POST base 2 -> shift-only path; SF = NF = 1 (whole layer in one cycle), signed inputs
    lay, x = _first_layer("post2", (16, 8, 4), seed=4, signed=True)
    res = mvu_bench("mvu_shift", lay, pe=8, simd=16, in_beat=16, x=x)
    assert res["hw"].wmode == "shift"


def extreme_layer() -> DenseLayer:
    """Even channels all +7, odd all -8 (int4): |acc| reaches DenseLayer.acc_bits' bound for
    an all-255 input, and mult 1 / shift 10 passes it on unclamped, so a too-narrow accumulator
    would wrap and show up as a wrong output."""
    n, m = 64, 8
    w = np.where(np.arange(m)[:, None] % 2 == 0, 7, -8) * np.ones((m, n), dtype=np.int64)
    rq = Requant(multiplier=np.ones(m), shift=np.full(m, 10), lo=-128, hi=127)
    return DenseLayer(
        "ext",
        w,
        np.zeros(m, dtype=np.int64),
        rq,
        QuantSpec(8, False, 0),
        QuantSpec(8, True, 0),
        relu=False,
        quantizer="uniform",
        weight_bits=4,
    )


def test_extreme_inputs_use_the_whole_accumulator():
    lay = extreme_layer()
    hw_bits = lay.acc_bits
    assert -(2 ** (hw_bits - 1)) <= -64 * 8 * 255 < -(2 ** (hw_bits - 2))  # tight bound
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(20, 64))
    x[::3] = 255
    res = mvu_bench("mvu_extreme", lay, pe=2, simd=16, in_beat=64, x=x)
    assert res["hw"].acc_w == lay.acc_bits
