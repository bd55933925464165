import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.quant.common import round_significand
from codesign.quant.post import PostWeightQuant, post_codebook, post_magnitudes

S = math.sqrt(2)
# Published 4-bit, b = sqrt(2) magnitudes (REFERENCES.md, arXiv 2504.17263).
PAPER_4BIT_SQRT2 = [0, 0.088388, 0.125, 0.176777, 0.25, 0.353553, 0.5, 0.707107, 1]


def test_published_4bit_sqrt2_levels():
    assert np.allclose(post_magnitudes(4, S), PAPER_4BIT_SQRT2, atol=1e-6)


@pytest.mark.parametrize(
    "bits, base, expected",
    [
        (3, S, [0, 0.353553, 0.5, 0.707107, 1]),
        (3, 2.0, [0, 0.125, 0.25, 0.5, 1]),
        (4, 2.0, [0, 2**-7, 2**-6, 2**-5, 2**-4, 2**-3, 2**-2, 2**-1, 1]),
        (5, 2.0, [0] + [2.0**-k for k in range(15, -1, -1)]),
        (5, S, [0] + [S**-k for k in range(15, -1, -1)]),
    ],
)
def test_levels_follow_the_rule(bits, base, expected):
    # {0} U {b^-k, k = 0 .. 2^(bits-1) - 1}
    assert len(expected) == 2 ** (bits - 1) + 1
    assert np.allclose(post_magnitudes(bits, base), expected, atol=1e-6)


def test_4bit_sqrt2_storage_drops_smallest_and_fits_4_bits():
    cb = post_codebook(4, S, frac_bits=8, keep_smallest=False)
    # 0.125*256 = 32, 0.1768*256 = 45.25 -> 45, ..., 1 -> 256; 0.0884 dropped
    assert list(cb[7:]) == [0, 32, 45, 64, 91, 128, 181, 256]
    assert np.array_equal(cb, -cb[::-1])
    assert len(cb) == 15
    q = PostWeightQuant(3, bits=4)
    assert q.index_bits == 4
    wide = PostWeightQuant(3, bits=4, keep_smallest=True)
    assert len(wide.codebook) == 17 and wide.index_bits == 5
    assert 23 in wide.codebook.tolist()  # round(0.088388 * 256)


def test_high_bits_base2_merges_levels_that_round_together():
    q = PostWeightQuant(2, bits=8, base=2.0, frac_bits=8)
    assert len(set(q.codebook.tolist())) == len(q.codebook)
    # 2^0 .. 2^-8 are representable with 8 fractional bits; 2^-9 .. 2^-126 round to 0
    assert q.levels_used == 2 * 9 + 1


@pytest.mark.parametrize("bits", [1, 9, 0])
def test_bits_out_of_range(bits):
    with pytest.raises(CodesignError, match="out of range"):
        PostWeightQuant(4, bits=bits)


def test_alpha_init_is_the_099_quantile():
    torch.manual_seed(0)
    w = torch.randn(5, 200)
    q = PostWeightQuant(5)
    q.init_from(w)
    expected = np.quantile(w.abs().numpy(), 0.99, axis=1)
    assert np.allclose(q.alpha.detach().numpy().ravel(), expected, rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([S, 2.0]), st.integers(2, 6))
def test_forward_picks_the_nearest_level(seed, base, bits):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(4, 16, generator=g, dtype=torch.float64)
    q = PostWeightQuant(4, bits=bits, base=base).double()
    q.init_from(w)
    wq = q(w)
    alpha = q.scale().detach()
    levels = q.codebook.double() / 2**q.frac_bits
    u = torch.clamp(w / alpha, -1, 1)
    dist = (u.unsqueeze(-1) - levels).abs()
    chosen = (wq / alpha).unsqueeze(-1)
    best = dist.min(-1).values
    assert torch.all(((chosen - levels).abs() < 1e-12).any(-1))
    assert torch.allclose((u - wq / alpha).abs(), best, atol=1e-12)


def test_ste_gradients_flow_to_weights_and_alpha():
    torch.manual_seed(0)
    w = torch.randn(4, 8, requires_grad=True)
    q = PostWeightQuant(4)
    q.init_from(w)
    g = torch.randn(4, 8)
    (q(w) * g).sum().backward()
    inside = (w.detach().abs() < q.scale().detach()).float()
    # straight through inside the clamp range, zero outside
    assert torch.allclose(w.grad, g * inside)
    assert q.alpha.grad is not None and q.alpha.grad.abs().sum() > 0


def test_round_significand_keeps_16_bits():
    x = torch.tensor([0.1, 3.0, 1e-3], dtype=torch.float64)
    r = round_significand(x)
    m, e = np.frexp(r.numpy())
    assert np.all(m * 2**16 == np.round(m * 2**16))
    assert torch.allclose(r, x, rtol=2**-16)
