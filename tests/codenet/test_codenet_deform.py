"""Square deformable conv (layers/deform.py): dilation equivalence and the three variants."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.layers.deform import SquareDeformConv2d, deform_dw, dilated_reference, sample_taps


def _data(seed: int, c: int = 3, h: int = 9, w: int = 11):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c, h, w, generator=g, dtype=torch.float64)
    wt = torch.randn(c, 1, 3, 3, generator=g, dtype=torch.float64)
    return x, wt


@pytest.mark.parametrize("s", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("bilinear", [False, True])
def test_constant_integer_scale_is_dilated_conv(s, bilinear):
    x, wt = _data(s)
    sm = torch.full((2, 9, 11), float(s), dtype=torch.float64)
    out = deform_dw(x, sm, wt, bilinear=bilinear)
    torch.testing.assert_close(out, dilated_reference(x, wt, s), rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000))
def test_dilation_equivalence_property(s, seed):
    x, wt = _data(seed, c=2, h=7, w=8)
    sm = torch.full((2, 7, 8), float(s), dtype=torch.float64)
    torch.testing.assert_close(
        deform_dw(x, sm, wt, bilinear=False), dilated_reference(x, wt, s), rtol=0, atol=1e-12
    )


def test_module_starts_as_plain_3x3_conv():
    """Scale predictor bias 1, weight 0: s = 1 everywhere -> Conv2d(padding=1) (CoDeNet init)."""
    x, _ = _data(0)
    for mode in ("unbounded", "bounded", "rounded"):
        m = SquareDeformConv2d(3, mode, bias=False).double()
        torch.testing.assert_close(m(x), dilated_reference(x, m.weight, 1), rtol=0, atol=1e-12)


def test_bilinear_hand_computed_half_scale():
    """One channel, s = 0.5 at the centre of a 3x3 ramp: every tap is a 2-point average."""
    x = torch.arange(9, dtype=torch.float64).view(1, 1, 3, 3)  # value = 3*y + x
    s = torch.full((1, 3, 3), 0.5, dtype=torch.float64)
    taps = sample_taps(x, s, bilinear=True)[0, 0, :, 1, 1]
    # tap (ky, kx) reads (1 + ky/2, 1 + kx/2): linear ramp -> 3*(1+ky/2) + (1+kx/2)
    want = torch.tensor(
        [4 + 1.5 * ky + 0.5 * kx for ky in (-1, 0, 1) for kx in (-1, 0, 1)], dtype=torch.float64
    )
    torch.testing.assert_close(taps, want)


def test_bounded_clamps_scale_and_rounded_is_integer():
    m = SquareDeformConv2d(2, "bounded").double()
    x, _ = _data(1, c=2)
    with torch.no_grad():
        m.offset.bias.fill_(20.0)
    assert float(m.scale_map(x).detach().max()) == 8.0
    with torch.no_grad():
        m.offset.bias.fill_(-20.0)
    assert float(m.scale_map(x).detach().min()) == -7.0
    m.mode = "rounded"
    with torch.no_grad():
        m.offset.weight.normal_(0, 0.7)
        m.offset.bias.fill_(1.3)
    s = m.scale_map(x)
    assert torch.equal(s, torch.round(s)) and s.min() >= -7 and s.max() <= 8
    # rounded forward == exact integer gather (no interpolation), with a gradient to the predictor
    out = m(x)
    ref = deform_dw(x, s.detach(), m.weight, m.bias, bilinear=False)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    out.sum().backward()
    assert m.offset.weight.grad is not None and m.offset.weight.grad.abs().sum() > 0


def test_unbounded_keeps_large_scales():
    m = SquareDeformConv2d(1, "unbounded").double()
    with torch.no_grad():
        m.offset.bias.fill_(12.5)
    x, _ = _data(2, c=1)
    assert float(m.scale_map(x).detach().max()) == 12.5


def test_outside_taps_read_pad_value():
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    s = torch.full((1, 4, 4), 8.0, dtype=torch.float64)  # every non-centre tap is outside
    taps = sample_taps(x, s, bilinear=False, pad=-128.0)[0, 0, :, 0, 0]
    assert taps.tolist() == [-128.0] * 4 + [0.0] + [-128.0] * 4


def test_bad_inputs_named():
    with pytest.raises(CodesignError, match="mode"):
        SquareDeformConv2d(2, "wobbly")
    x, wt = _data(0)
    with pytest.raises(CodesignError, match="scale map"):
        deform_dw(x, torch.ones(2, 3, 3, dtype=torch.float64), wt)
