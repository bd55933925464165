"""Hardware form of a layer: word packing, weight modes, accumulator widths, input checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer, QuantSpec, Requant
from codesign.rtl.layer_hw import layer_hw
from codesign.rtl.synthetic import synthetic_mlp

U8 = QuantSpec(8, False, 0)


def _layer(w, in_q=U8, bias=None, codebook=None, indices=None, bits=4):
    m = w.shape[0]
    rq = Requant(np.full(m, 3), np.full(m, 12), lo=0, hi=255)
    bias = np.zeros(m, dtype=np.int64) if bias is None else bias
    return DenseLayer(
        "L",
        w,
        bias,
        rq,
        in_q,
        QuantSpec(8, False, 0),
        True,
        "post" if codebook is not None else "uniform",
        bits,
        codebook,
        indices,
    )


def test_weight_words_hand_packed():
    # W (2 x 4), PE 1, SIMD 2: word nf*SF + sf, lane s at bits [4s+3:4s], two's complement
    w = np.array([[1, -2, 3, -4], [5, 6, -7, 0]])
    hw = layer_hw(_layer(w), pe=1, simd=2, in_beat=4)
    assert hw.weight_words() == [0xE1, 0xC3, 0x65, 0x09]
    hw2 = layer_hw(_layer(w), pe=2, simd=4, in_beat=4)  # one word: lane p*4+s
    assert hw2.weight_words() == [0x0965C3E1]  # lanes 1, E, 3, C, 5, 6, 9, 0


def test_fold_words_per_channel_tables():
    w = np.ones((4, 2), dtype=np.int64)
    hw = layer_hw(_layer(w, bias=np.array([1, -1, 2, -2])), pe=2, simd=2, in_beat=2)
    assert hw.fold_words(hw.bias, 8) == [0xFF01, 0xFE02]


def test_weight_modes():
    assert layer_hw(synthetic_mlp(quantizer="post").layers[0], 8, 16, 16).wmode == "lut"
    sh = layer_hw(synthetic_mlp(quantizer="post2").layers[0], 8, 16, 16)
    assert sh.wmode == "shift" and sh.w_w == 2 + 4  # k up to 8 -> 4 bits + zero + sign
    # table entry for +256 = 2**8: zero 0, neg 0, k 8; for -1: neg, k 0; for 0: zero flag
    cb = list(synthetic_mlp(quantizer="post2").layers[0].codebook)
    assert sh.table[cb.index(256)] == 8 and sh.table[cb.index(0)] == 1 << 5
    assert (
        layer_hw(synthetic_mlp(quantizer="post2").layers[0], 8, 16, 16, shift_mode=False).wmode
        == "lut"
    )
    assert layer_hw(synthetic_mlp(quantizer="uniform").layers[0], 8, 16, 16).wmode == "int"


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 6),
    n=st.integers(1, 40),
    wbits=st.integers(2, 8),
    in_bits=st.integers(2, 9),
    signed=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_accumulator_never_overflows_at_extreme_inputs(m, n, wbits, in_bits, signed, seed):
    rng = np.random.default_rng(seed)
    lo_w, hi_w = -(2 ** (wbits - 1)), 2 ** (wbits - 1) - 1
    w = rng.integers(lo_w, hi_w + 1, size=(m, n))
    w[0] = hi_w if seed % 2 else lo_w  # one channel at the weight extreme
    bias = rng.integers(-(2**12), 2**12, size=m)
    q = QuantSpec(in_bits, signed, 0)
    lay = _layer(w, in_q=q, bias=bias, bits=wbits)
    hw = layer_hw(lay, pe=1, simd=1, in_beat=1)
    assert hw.acc_w >= lay.acc_bits
    # the extreme accumulators: each weight times whichever input end maximises / minimises it
    hi = np.maximum(w * q.lo, w * q.hi).sum(axis=1) + bias
    lo = np.minimum(w * q.lo, w * q.hi).sum(axis=1) + bias
    assert hi.max() <= 2 ** (hw.acc_w - 1) - 1 and lo.min() >= -(2 ** (hw.acc_w - 1))


def test_bad_layers_are_named():
    w = np.array([[1, 2], [3, 4]])
    with pytest.raises(CodesignError, match="layer 'L': integer weights need 6 bits"):
        layer_hw(_layer(w * 4, bits=4), 1, 1, 1)
    cb = np.array([-1, 0, 1])
    with pytest.raises(CodesignError, match="layer 'L': codebook\\[indices\\] differs"):
        layer_hw(_layer(w, codebook=cb, indices=np.zeros((2, 2), dtype=np.int64)), 1, 1, 1)
    with pytest.raises(CodesignError, match="layer 'L': input beat of 3"):
        layer_hw(_layer(w), 1, 1, 3)
    lay = _layer(w)
    lay.requant.hi = 300
    with pytest.raises(CodesignError, match="layer 'L': clamp"):
        layer_hw(lay, 1, 1, 1)
