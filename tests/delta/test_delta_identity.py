"""The delta identity, the threshold rule and bad input (integer semantics, no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from codesign.delta import golden
from codesign.delta.graph import check_theta
from codesign.delta.model import DeltaSeqNet, hold_codes
from codesign.errors import CodesignError


def codes(n: int, t: int, c: int):
    return arrays(np.int64, (n, t, c), elements=st.integers(0, 255))


@st.composite
def sequences_and_weights(draw):
    n, t, c, o = (draw(st.integers(1, 4)), draw(st.integers(1, 9)), draw(st.integers(1, 6)),
                  draw(st.integers(1, 5)))  # fmt: skip
    q = draw(codes(n, t, c))
    w = draw(arrays(np.int64, (o, c), elements=st.integers(-31, 31)))
    b = draw(arrays(np.int64, (o,), elements=st.integers(-5000, 5000)))
    return q, w, b


@settings(max_examples=200, deadline=None)
@given(sequences_and_weights())
def test_sum_of_deltas_times_w_is_w_times_last_codes(qwb):
    """θ = 0: Σ_t W·Δ_t = W·Q(a_T), and the accumulator is W·Q(a_t) + b at every step."""
    q, w, b = qwb
    d = golden.delta_encode(q, 0)
    np.testing.assert_array_equal(d.sum(axis=1), q[:, -1])
    s = golden.accumulate(d, w, b)
    np.testing.assert_array_equal(s[:, -1], np.einsum("oc,nc->no", w, q[:, -1]) + b)
    np.testing.assert_array_equal(s, np.einsum("oc,ntc->nto", w, q) + b)
    # only changes are sent
    prev = np.concatenate([np.zeros_like(q[:, :1]), q[:, :-1]], axis=1)
    np.testing.assert_array_equal(d != 0, q != prev)


@settings(max_examples=200, deadline=None)
@given(sequences_and_weights(), st.integers(0, 40))
def test_threshold_error_bounded_and_never_accumulates(qwb, theta):
    """With θ: sent deltas are >= θ, the held value stays within θ − 1 of Q(a_t) at every step,
    and the consumer holds W·(held) + b exactly."""
    q, w, b = qwb
    d = golden.delta_encode(q, theta)
    held = np.cumsum(d, axis=1)
    assert np.all(np.abs(d[d != 0]) >= theta)
    assert np.all(np.abs(q - held) <= max(theta - 1, 0))
    np.testing.assert_array_equal(golden.accumulate(d, w, b), np.einsum("oc,ntc->nto", w, held) + b)


def test_threshold_hand_computed():
    # θ = 3 on one element: 5 sent (ref 0), 6 held (|1| < 3), 9 sent as +4 from the *sent* 5,
    # 4 sent as -5, 0 sent as -4
    q = np.array([5, 6, 9, 9, 4, 4, 0]).reshape(1, -1, 1)
    assert golden.delta_encode(q, 3).ravel().tolist() == [5, 0, 4, 0, -5, 0, -4]
    # a slow ramp: Q(a_t) - Q(a_{t-1}) is always 1 < θ, but the encoder compares with the last
    # transmitted value, so the drift is sent once it reaches θ (no accumulated error)
    ramp = np.arange(7).reshape(1, -1, 1)
    assert golden.delta_encode(ramp, 3).ravel().tolist() == [0, 0, 0, 3, 0, 0, 3]
    # θ = 0 and θ = 1 both send every change
    assert golden.delta_encode(ramp, 0).ravel().tolist() == [0, 1, 1, 1, 1, 1, 1]
    assert golden.delta_encode(ramp, 1).ravel().tolist() == [0, 1, 1, 1, 1, 1, 1]


@settings(max_examples=100, deadline=None)
@given(codes(3, 8, 5), st.integers(0, 30))
def test_training_encoder_matches_golden_encoder(q, theta):
    """The PyTorch encoder used in training has the golden threshold semantics."""
    held, delta = hold_codes(torch.as_tensor(q, dtype=torch.float64), theta)
    d = golden.delta_encode(q, theta)
    np.testing.assert_array_equal(delta.numpy().astype(np.int64), d)
    np.testing.assert_array_equal(held.detach().numpy().astype(np.int64), np.cumsum(d, axis=1))


@pytest.mark.parametrize("theta", [-1, 1.5, True, "3", None])
def test_bad_threshold_rejected(theta):
    with pytest.raises(CodesignError, match="threshold"):
        check_theta(theta)
    with pytest.raises(CodesignError, match="threshold"):
        golden.delta_encode(np.zeros((1, 2, 3), np.int64), theta)


def test_bad_shapes_rejected():
    with pytest.raises(CodesignError, match="samples, steps, channels"):
        golden.delta_encode(np.zeros((2, 3), np.int64), 0)
    with pytest.raises(CodesignError, match="consumer expects"):
        golden.accumulate(np.zeros((1, 2, 3), np.int64), np.zeros((4, 5), np.int64), np.zeros(4))
    with pytest.raises(CodesignError, match="act_bits"):
        DeltaSeqNet(act_bits=9)


def test_bad_input_to_the_integer_model_rejected():
    torch.manual_seed(0)
    m = DeltaSeqNet(n_in=6, hidden=4, mid=4, classes=3)
    with pytest.raises(CodesignError, match="start_qat"):
        m.to_graph(5)
    m.start_qat(torch.rand(8, 5, 6))
    p = m.to_graph(5)
    x = np.zeros((2, 5, 6), np.int64)
    golden.run(p, x)  # the right shape runs
    for bad, what in (
        (np.zeros((2, 6), np.int64), "samples, steps, 6"),
        (np.zeros((2, 5, 7), np.int64), "samples, steps, 6"),
        (np.zeros((2, 5, 6)), "integer codes"),
        (np.full((2, 5, 6), 256), "8-bit unsigned range"),
        (np.zeros((2, 4, 6), np.int64), "built for 5 steps"),
    ):
        with pytest.raises(CodesignError, match=what):
            golden.run(p, bad)
