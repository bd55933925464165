"""ASQ unit behaviour: adapter shapes and gradients, the integer division rule (hand-computed
values, ties, exhaustive float64 agreement), integer form == IR stage, bad configurations."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.quant import asq_int
from codesign.quant.act_stages import make_act_stage
from codesign.quant.asq import AsqStage


def _qt(u_int: torch.Tensor, e_u: int = -4) -> SimpleNamespace:
    s = torch.tensor(2.0**e_u, dtype=u_int.dtype)
    return SimpleNamespace(value=u_int * s, scale=s)


def _u(batch: int = 32, c: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u = torch.randint(0, 256, (batch, c), generator=g).float()
    u[:, : c // 3] = torch.randint(0, 20, (batch, c // 3), generator=g).float()
    return u


def test_adapter_and_output_shapes():
    stage = make_act_stage("asq", 64, 3)
    assert isinstance(stage, AsqStage)
    assert stage.fc1.weight.shape == (16, 64) and stage.fc2.weight.shape == (1, 16)  # C -> C/4 -> 1
    out = stage(_qt(_u()))
    gamma, extras = stage.adapter(_qt(_u()).value, _qt(_u()).scale)
    assert out.value.shape == (32, 64) and out.scale.shape == (32, 1)
    assert gamma.shape == (32, 1) and extras["h"].shape == (32, 16) and extras["g"].shape == (32,)
    assert out.bias_scale.numel() == 1
    q = out.int_repr()
    assert torch.equal(q, torch.round(q)) and q.min() >= 0 and q.max() <= 7
    torch.testing.assert_close(out.value, q * out.scale)  # value = q * step, per sample
    assert AsqStage(8, 2).fc1.weight.shape == (2, 8)
    assert AsqStage(64, 4, hidden=5).fc1.weight.shape == (5, 64)


def test_gamma_starts_near_one_and_step_from_data():
    """Reference init (W2 ~ N(0, 0.01), b2 = 1) plus data init: b2 carries s_ref / s_base for
    the LSQ step s_ref = mean|u| * 2 / sqrt(qmax) split into a power of two s_base and a factor
    in [0.7, 1.42]; the random hidden layer moves each sample's gamma a little around it."""
    torch.manual_seed(0)
    stage = AsqStage(64, 3)
    qt = _qt(_u())
    stage(qt)
    s_ref = float(qt.value.abs().mean()) * 2 / 7**0.5
    s_base = float(stage.base_scale().detach())
    assert s_base == 2.0 ** round(np.log2(s_ref))
    assert float(stage.fc2.bias.detach()) == pytest.approx(s_ref / s_base)
    assert 0.7 <= s_ref / s_base <= 1.42
    gamma = stage.gamma(qt.value, qt.scale).detach()
    ratio = s_base * gamma / s_ref
    assert 0.75 < float(ratio.mean()) < 1.33
    assert float(ratio.min()) > 0.6 and float(ratio.max()) < 1.5


def test_gradients_reach_base_step_and_adapter():
    stage = AsqStage(64, 3)
    u = _u()
    stage(_qt(u))  # first call initialises from data
    stage.zero_grad()
    out = stage(_qt(u))
    target = torch.linspace(0, 1, 64).expand(32, 64) * 4
    ((out.value - target) ** 2).mean().backward()
    for name in ("base_log2", "h_log2", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        grad = dict(stage.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all(), name
        assert float(grad.abs().sum()) > 0, name


def test_lsq_gradient_of_the_step():
    """d(q * step)/d step = q - u/step inside the range and qmax above it (LSQ), times 1 here."""
    stage = AsqStage(4, 2)
    u = torch.tensor([[0.0, 40.0, 100.0, 250.0]])
    stage(_qt(u, 0))
    with torch.no_grad():
        stage.base_log2.fill_(5)  # s_base = 32: u / s = 0, 1.25 (in range), 3.125, 7.8 (above)
    gamma = torch.ones(1, 1, requires_grad=True)
    stage.adapter = lambda u, s: (gamma, {"h": torch.zeros(1, 1), "g": torch.ones(1)})
    out = stage(_qt(u, 0))
    out.value.sum().backward()
    s = float(stage.base_scale().detach())
    y = u[0] / s
    q = torch.clamp(torch.round(y), 0, 3)
    expect = float(sum(q[i] - y[i] if 0 < y[i] < 3 else q[i] for i in range(4))) * s
    assert float(gamma.grad) == pytest.approx(expect)


@pytest.mark.parametrize(
    "u,g,k,bits,q",
    [
        (24, 16, 0, 4, 2),  # 1.5 -> 2 (tie, even)
        (40, 16, 0, 4, 2),  # 2.5 -> 2 (tie, even)
        (8, 16, 0, 4, 0),  # 0.5 -> 0
        (56, 16, 0, 4, 4),  # 3.5 -> 4
        (7, 3, 0, 4, 2),  # 2.33 -> 2
        (5, 3, 0, 4, 2),  # 1.67 -> 2
        (24, 16, 1, 4, 3),  # 48 / 16 = 3
        (6, 2, -1, 4, 2),  # 6 / 4 = 1.5 -> 2
        (10, 2, -1, 4, 2),  # 10 / 4 = 2.5 -> 2
        (255, 1, 4, 3, 7),  # saturates at 2**3 - 1
        (15, 2, 0, 3, 7),  # 7.5 -> 8 -> clamp 7
        (13, 2, 0, 3, 6),  # 6.5 -> 6
        (0, 255, 3, 8, 0),
        (255, 255, 0, 8, 1),
        (255, 1, 0, 8, 255),
    ],
)
def test_division_hand_computed(u, g, k, bits, q):
    assert asq_int.asq_divide(np.array([[u]]), np.array([g]), k, bits)[0, 0] == q


def _exact(u: int, g: int, k: int, bits: int) -> int:
    x = Fraction(u) * Fraction(2) ** k / g
    fl = x.numerator // x.denominator
    rem = x - fl
    n = fl + (rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1))
    return min(max(n, 0), 2**bits - 1)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 255),
    st.integers(1, 2**16 - 1),
    st.integers(-asq_int.MAX_K, asq_int.MAX_K),
    st.integers(2, 8),
)
def test_division_is_round_half_even_of_the_exact_quotient(u, g, k, bits):
    assert asq_int.asq_divide(np.array([[u]]), np.array([g]), k, bits)[0, 0] == _exact(
        u, g, k, bits
    )


@pytest.mark.parametrize("k", [-4, -1, 0, 1, 4])
def test_float64_division_equals_integer_rule_exhaustively(k):
    """The PyTorch forward divides reals in float64; for every 8-bit u and g < 256 it rounds to
    the integer rule's q (the argument in codesign/quant/asq.py)."""
    u = np.arange(256)[:, None].repeat(255, axis=1)
    g = np.arange(1, 256)[None, :].repeat(256, axis=0)
    e_u, gf = -5, 4
    e_base = gf + e_u - k
    step = torch.tensor(2.0**e_base) * torch.as_tensor(g, dtype=torch.float64) / 2**gf
    y = torch.as_tensor(u * 2.0**e_u) / step
    q_torch = torch.clamp(torch.round(y), 0, 255).numpy().astype(np.int64)
    q_int = asq_int.asq_divide(u.reshape(-1, 1), g.reshape(-1), k, 8).reshape(u.shape)
    assert np.array_equal(q_torch, q_int)


def test_integer_form_reproduces_the_float64_forward():
    """integer_form -> AsqIntStage gives the codes, g and h of the float64 PyTorch stage."""
    stage = AsqStage(64, 3, Gf=5)
    u = _u(64)
    stage(_qt(u))
    stage = stage.double().eval()
    out = stage(_qt(u.double()))
    f = stage.integer_form(torch.tensor(2.0**-4, dtype=torch.float64))
    arrays = {n: f[n].numpy() for n in asq_int.INPUTS[1:]}
    ist = asq_int.stage_from_arrays("fc0", arrays, f["attrs"], "test")
    ctx: dict = {}
    q = ist.apply(u.long().numpy(), ctx)
    assert np.array_equal(q, out.int_repr().numpy().astype(np.int64))
    assert np.array_equal(ctx["g"], out.extras["g"].numpy().astype(np.int64))
    assert np.array_equal(ctx["record"]["fc0.h"], out.extras["h"].numpy().astype(np.int64))
    assert np.array_equal(ctx["record"]["fc0.g"], ctx["g"])
    assert ist.decoded_q.scale_exp == f["attrs"]["e_base"] - 5
    assert ist.ops(64)["mult"] == 64 * 16 + 16


def test_stage_ops_count_the_datapath_widths():
    """Hand-sized stage: C=4, H=1, w1 = [1, 2, -3, 4], b1 = 5, m1 = 3; w2 = 2, b2 = 0, m2 = 5;
    G = 8, 3 bits, k = -2. Accumulator 1 bound 10 * 255 + 5 = 2555 (12 bits + sign = 13);
    accumulator 2 bound 2 * 255 = 510 (9 + 1 = 10); multipliers 3 (2 bits) and 5 (3 bits);
    divider g << 2 plus sign: 8 + 2 + 1 = 11 bits, 3 + 1 steps per element."""
    from codesign.ir.graph import Requant

    st = asq_int.AsqIntStage(
        layer="fc0",
        w1=np.array([[1, 2, -3, 4]]),
        b1=np.array([5]),
        rq1=Requant(np.array([3]), np.array([1]), lo=0, hi=255),
        w2=np.array([[2]]),
        b2=np.array([0]),
        rq2=Requant(np.array([5]), np.array([0]), lo=1, hi=255),
        bits=3,
        G=8,
        Gf=4,
        k=-2,
        e_u=0,
        e_base=6,
    )
    assert st.acc_bounds == (2555, 510)
    assert st.ops(4) == {
        "mult": 4 + 1,
        "add_bits": 4 * 13 + 10 + 4 * 4 * 11,
        "mult_bits": 13 * 2 + 10 * 3,
    }


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"bits": 1}, "bit width 1"),
        ({"bits": 9}, "bit width 9"),
        ({"bits": 3.0}, "bit width 3.0"),
        ({"G": 1}, "G=1"),
        ({"G": 17}, "G=17"),
        ({"Gf": -1}, "Gf=-1"),
        ({"Gf": 8}, "Gf=8"),
        ({"hidden": 0}, "hidden width 0"),
        ({"init": "zeros"}, "init 'zeros'"),
    ],
)
def test_bad_configurations_are_rejected(kw, needle):
    args = {"bits": 3, **kw}
    bits = args.pop("bits")
    with pytest.raises(CodesignError, match=needle):
        AsqStage(64, bits, **args)


def test_bad_configurations_through_the_model_factory_and_ir():
    with pytest.raises(CodesignError, match="bit width 9"):
        make_act_stage("asq", 64, 9)
    with pytest.raises(CodesignError, match="out of range"):
        asq_int.check_k(17, "layer fc0")
    with pytest.raises(CodesignError, match="g must be >= 1"):
        asq_int.asq_divide(np.ones((1, 2)), np.array([0]), 0, 4)
    with pytest.raises(CodesignError, match="expects .batch, channels."):
        AsqStage(4, 3)(_qt(torch.ones(2, 4, 3, 3)))
