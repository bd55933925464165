"""Exact multi-threshold form of the requantisation (what FINN's Thresholding layers compute)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.hls.thresholds import check, exact_thresholds, multithreshold
from codesign.ir.golden import requantize
from codesign.ir.graph import DenseLayer, QuantSpec, Requant


def _layer(m, shift, bias, signed_out, relu):
    out_q = QuantSpec(4, signed_out, -1)
    lo = 0 if relu or not signed_out else out_q.lo
    return DenseLayer(
        name="fc0",
        weight=np.array([[1] * 4] * len(m)),
        bias=np.array(bias),
        requant=Requant(np.array(m), np.array(shift), lo=lo, hi=out_q.hi),
        in_q=QuantSpec(4, False, 0),
        out_q=out_q,
        relu=relu,
        quantizer="uniform",
        weight_bits=2,
    )


@settings(max_examples=60, deadline=None)
@given(
    m=st.lists(st.integers(1, 2**12), min_size=1, max_size=3),
    shift=st.integers(0, 10),
    bias=st.integers(-300, 300),
    signed_out=st.booleans(),
    relu=st.booleans(),
)
def test_thresholds_equal_requantize_everywhere(m, shift, bias, signed_out, relu):
    """For every accumulator value in a wide range, thresholds == golden requantisation
    (ties included: small shifts make exact halves common)."""
    lay = _layer(m, [shift] * len(m), [bias] * len(m), signed_out, relu)
    t = exact_thresholds(lay)
    check(lay, t)
    acc = np.arange(-2000, 2000)[:, None].repeat(len(m), axis=1)
    want = requantize(acc + lay.bias, lay.requant)
    assert np.array_equal(multithreshold(acc, t, lay.requant.lo), want)


def test_tie_goes_to_even():
    """m=1, shift=1: acc 1 -> 0.5 rounds to 0, acc 3 -> 1.5 rounds to 2 (half to even)."""
    lay = _layer([1], [1], [0], True, False)
    t = exact_thresholds(lay)
    out = multithreshold(np.array([[1], [2], [3]]), t, lay.requant.lo)
    assert out.ravel().tolist() == [0, 1, 2]


def test_off_by_one_threshold_is_named():
    """A threshold moved by one (what float32 streamlining can do) fails the check by name."""
    lay = _layer([3], [2], [1], False, True)
    t = exact_thresholds(lay)
    t[0, 4] += 1
    with pytest.raises(AssertionError, match="layer fc0 channel 0 threshold 4"):
        check(lay, t)
