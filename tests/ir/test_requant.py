"""Requantisation rounding against plain Python big-integer arithmetic."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.ir.golden import requantize, round_shift
from codesign.ir.graph import Requant


def ref_round(v: int, shift: int, rounding: str) -> int:
    x = Fraction(v, 2**shift)
    fl = x.numerator // x.denominator
    frac = x - fl
    if frac > Fraction(1, 2):
        return fl + 1
    if frac < Fraction(1, 2):
        return fl
    if rounding == "half_up":
        return fl + 1
    return fl if fl % 2 == 0 else fl + 1


@settings(max_examples=400, deadline=None)
@given(
    st.integers(-(2**40), 2**40),
    st.integers(0, 20),
    st.sampled_from(["half_even", "half_up"]),
)
def test_round_shift_matches_bigint(v, shift, rounding):
    got = round_shift(np.array([v]), np.array([shift]), rounding)[0]
    assert got == ref_round(v, shift, rounding)


@pytest.mark.parametrize(
    "v, shift, even, up",
    [(5, 1, 2, 3), (7, 1, 4, 4), (-5, 1, -2, -2), (-7, 1, -4, -3), (6, 2, 2, 2), (-6, 2, -2, -1)],
)
def test_ties_by_hand(v, shift, even, up):
    # 2.5 -> 2 / 3; 3.5 -> 4; -2.5 -> -2; -3.5 -> -4 / -3; 1.5 -> 2; -1.5 -> -2 / -1
    assert round_shift(np.array([v]), np.array([shift]), "half_even")[0] == even
    assert round_shift(np.array([v]), np.array([shift]), "half_up")[0] == up


def test_codenet_vectors_shift_part():
    # CoDeNet rule q = ((acc*scale + 2^15) >> 16) + bias (REFERENCES.md worked values)
    acc = np.array([100, 1000, -100, 6])
    scale = np.array([16384, 32768, 16384, 16384])
    bias = np.array([3, 0, 3, 0])
    q = round_shift(acc * scale, np.full(4, 16), "half_up") + bias
    relu = np.array([True, True, False, False])
    q = np.where(relu, np.maximum(q, 0) - 128, q)
    assert np.clip(q, -128, 127).tolist() == [-100, 127, -22, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**23), 2**23), min_size=1, max_size=8),
    st.integers(1, 2**16 - 1),
    st.integers(0, 30),
    st.booleans(),
)
def test_requantize_matches_bigint_with_clamp(accs, m, shift, relu):
    n = len(accs)
    lo, hi = (0, 255) if relu else (-128, 127)
    rq = Requant(np.full(n, m), np.full(n, shift), lo=lo, hi=hi)
    got = requantize(np.array(accs), rq)
    want = [min(hi, max(lo, ref_round(a * m, shift, "half_even"))) for a in accs]
    assert got.tolist() == want
