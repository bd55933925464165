"""AdaLog integer rule (codesign.quant.adalog_rule) and its PyTorch stage, against hand-computed
values, a 50-digit decimal reference and the nearest-level property."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.quant.act_stages import make_act_stage
from codesign.quant.adalog import AdaLogStage
from codesign.quant.adalog_rule import LogQuantSpec, search

getcontext().prec = 60


def test_q_equal_r_gives_powers_of_two():
    s = LogQuantSpec(bits=3, q=37, r=37, frac_bits=8, a_off=8)
    assert np.allclose(s.levels(), [1, 1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64])
    assert s.decode_table.tolist() == [256, 128, 64, 32, 16, 8, 4, 0]  # code 7 = zero
    # boundaries 2^7.5 = 181.02, 2^6.5 = 90.51, 45.25, 22.63, 11.31, 5.66; zero below 4 / 2
    assert s.thresholds.tolist() == [182, 91, 46, 23, 12, 6, 2]


def test_base_sqrt2_lut_and_shift():
    s = LogQuantSpec(bits=3, q=1, r=2, frac_bits=8, a_off=8)
    assert s.lut.tolist() == [256, 181]  # round(256 / sqrt(2)) = round(181.02)
    # X[k] = LUT[k mod 2] >> (k // 2): 256, 181, 128, 181 >> 1, 64, 181 >> 2, 32
    assert s.decode_table.tolist() == [256, 181, 128, 90, 64, 45, 32, 0]


def test_paper_r37_lut_entries():
    s = LogQuantSpec(bits=4, q=9, r=37, frac_bits=8, a_off=8)
    # 256 * 2^(-1/37) = 251.25, 256 * 2^(-2/37) = 246.58, 256 * 2^(-36/37) = 130.41
    assert (s.lut[0], s.lut[1], s.lut[2], s.lut[36]) == (256, 251, 247, 130)
    assert len(s.lut) == 37
    # k = 5: 45 = 37 + 8 -> LUT[8] >> 1; 256 * 2^(-8/37) = 220.09
    assert s.decode_table[5] == 220 >> 1


def test_exact_ties_go_to_the_larger_level():
    # q/r = 2 (base 4): levels 256, 64, 16 in u units; the log-domain midpoints 128 and 32 are
    # integers (a float-only threshold rule would have to guess); zero below 16 / 2 = 8
    s = LogQuantSpec(bits=2, q=74, r=37, frac_bits=8, a_off=8)
    assert s.thresholds.tolist() == [128, 32, 8]
    u = np.array([255, 128, 127, 32, 31, 8, 7, 1, 0])
    assert s.encode(u).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    # q = r: the zero threshold 2^(8 - 2) / 2 = 32 is hit exactly by u = 32
    s2 = LogQuantSpec(bits=2, q=37, r=37, frac_bits=8, a_off=8)
    assert s2.thresholds[-1] == 32
    assert s2.encode(np.array([32, 31])).tolist() == [2, 3]


def _dec_pow2(e: Decimal) -> Decimal:
    return Decimal(2) ** e


@st.composite
def specs(draw) -> LogQuantSpec:
    r = draw(st.integers(1, 80))
    return LogQuantSpec(
        bits=draw(st.integers(2, 8)),
        q=draw(st.integers(1, min(160, 16 * r))),
        r=r,
        frac_bits=draw(st.integers(4, 12)),
        a_off=draw(st.integers(1, 8)),
    )


@settings(max_examples=60, deadline=None)
@given(specs())
def test_tables_match_a_60_digit_reference(s):
    r, q, a = Decimal(s.r), Decimal(s.q), Decimal(s.a_off)
    for f, v in enumerate(s.lut):
        y = _dec_pow2(Decimal(s.frac_bits) - Decimal(f) / r)
        assert v == int((y + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))
    for k, x in enumerate(s.decode_table[:-1]):
        lut = s.lut[k * s.q % s.r]
        assert x == lut >> (k * s.q // s.r)
    assert s.decode_table[-1] == 0
    bounds = [_dec_pow2(a - (Decimal(k) + Decimal("0.5")) * q / r) for k in range(s.n_levels - 1)]
    bounds.append(_dec_pow2(a - Decimal(s.n_levels - 1) * q / r) / 2)
    for t, b in zip(s.thresholds, bounds, strict=True):
        assert t == max(1, int(b.to_integral_value(rounding="ROUND_CEILING")))
    assert all(np.diff(s.thresholds) <= 0)


@settings(max_examples=60, deadline=None)
@given(specs(), st.lists(st.integers(0, 255), min_size=1, max_size=64))
def test_encode_is_the_nearest_level_in_the_log_domain(s, us):
    codes = s.encode(np.array(us))
    log_levels = s.a_off - np.arange(s.n_levels) * s.q / s.r  # log2 of the levels, u units
    smallest = 2.0 ** log_levels[-1]
    for u, c in zip(us, codes, strict=True):
        if u == 0 or 2 * u < smallest * (1 - 1e-12):
            assert c == s.zero_code, (u, c)
            continue
        if 2 * u <= smallest * (1 + 1e-12):
            continue  # at the zero threshold within float error: the exact tests cover ties
        assert c != s.zero_code
        d = np.abs(math.log2(u) - log_levels)
        assert d[c] <= d.min() + 1e-9, (u, c, d.argmin())  # nearest (ties: exact tests above)


@settings(max_examples=40, deadline=None)
@given(specs())
def test_decoded_value_is_the_level_within_one_step(s):
    x = s.decode_table[:-1].astype(np.float64)
    exact = 2.0 ** (s.frac_bits - np.arange(s.n_levels) * s.q / s.r)
    assert np.all(np.abs(x - exact) < 1.5)  # LUT rounding (1/2) + truncating shift (< 1)


@pytest.mark.parametrize(
    "kw, what",
    [
        ({"r": 0}, "r = 0"),
        ({"r": -37}, "r = -37"),
        ({"q": 0}, "q = 0"),
        ({"q": -1}, "q = -1"),
        ({"bits": 1}, "bits = 1"),
        ({"bits": 9}, "bits = 9"),
        ({"frac_bits": 0}, "frac_bits = 0"),
        ({"a_off": 9}, "a_off = 9"),
        ({"q": 37 * 17}, "q = 629"),
    ],
)
def test_bad_configurations_are_rejected(kw, what):
    args = {"bits": 4, "q": 9, "r": 37, "frac_bits": 8, "a_off": 8, **kw}
    with pytest.raises(CodesignError, match=f"AdaLog: {what} out of range"):
        LogQuantSpec(**args)


@pytest.mark.parametrize(
    "kw, what",
    [
        ({"r": 0}, "r = 0"),
        ({"q": 0}, "q = 0"),
        ({"r": [37, -2]}, "r = -2"),
        ({"a_off": 12}, "a_off"),
    ],
)
def test_bad_stage_configurations_are_rejected(kw, what):
    with pytest.raises(CodesignError, match=what):
        make_act_stage("adalog", 8, 4, **kw)
    with pytest.raises(CodesignError, match="bit width 9 out of range"):
        make_act_stage("adalog", 8, 9)


def test_search_finds_the_exact_base_and_is_deterministic():
    # powers of two only: base 2 (q = r = 37) reproduces them exactly; with r = 37 prime no
    # q < 37 can, and the visiting order (q ascending, a_off descending) picks a_off = 8
    u = np.repeat([128, 64, 32, 16, 0], [50, 40, 30, 20, 100])
    res = search(u, bits=3, frac_bits=8)
    assert (res.spec.q, res.spec.r, res.spec.a_off, res.mse) == (37, 37, 8, 0.0)
    assert res.candidates == 4 * 37 * 8
    rng = np.random.default_rng(3)
    v = np.clip(rng.exponential(25, 4000), 0, 255).astype(np.int64)
    a, b = search(v, 4, 8, r_values=(16, 37)), search(v.copy(), 4, 8, r_values=(16, 37))
    assert a == b and a.spec.bits == 4
    assert a.mse <= search(v, 4, 8, r_values=(37,), q_values=(37,)).mse  # no worse than base 2


def _qt(u: torch.Tensor, exp: int):
    class QT:  # the two fields of a brevitas QuantTensor the stage reads
        value = u * 2.0**exp
        scale = torch.tensor(2.0**exp)

    return QT()


def test_stage_forward_equals_the_integer_rule():
    st_ = AdaLogStage(16, 3, q=22, a_off=7)
    st_.eval()
    u = torch.arange(256, dtype=torch.float64).reshape(16, 16)
    out = st_(_qt(u, -5))
    s = st_.spec
    codes = s.encode(u.numpy().astype(np.int64))
    assert np.array_equal(out.int_repr().numpy(), codes)
    assert torch.equal(out.value, torch.as_tensor(s.decode(codes) * 2.0 ** (-5 + 7 - 8)))
    assert float(out.bias_scale) == 2.0 ** (-5 + 7 - 8)


def test_stage_gradient_passes_only_where_representable():
    st_ = AdaLogStage(4, 2, q=37, a_off=6)  # levels 64, 32, 16; zero below 8; top A = 64
    st_.train()
    u = torch.tensor([[0.0, 5.0, 40.0, 200.0]], dtype=torch.float64)
    x = (u * 0.25).requires_grad_()

    class QT:
        value = x
        scale = torch.tensor(0.25, dtype=torch.float64)

    out = st_(QT())
    out.value.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0, 0.0]]  # zero code, zero code, in range, above A
    assert out.value.detach().tolist() == [[0.0, 0.0, 32 * 0.25, 64 * 0.25]]


def test_calibrate_sets_the_searched_parameters():
    st_ = AdaLogStage(8, 3)
    u = torch.as_tensor(np.repeat([128, 64, 32, 16, 0], [50, 40, 30, 20, 100]), dtype=torch.float32)
    res = st_.calibrate(_qt(u, -6))
    assert (int(st_.q), int(st_.r), int(st_.a_off)) == (res.spec.q, 37, res.spec.a_off)
    assert st_.spec == res.spec
    fresh = AdaLogStage(8, 3)
    fresh.load_state_dict(st_.state_dict())  # q, r, a_off travel in the checkpoint
    assert fresh.spec == st_.spec
