"""Integer LIF: hand-computed traces, golden == PyTorch integer mode, and the state-quantized
float neuron (what QAT trains) equal to the integer neuron exactly."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.layers.lif import LIF, lif_integer
from codesign.snn.golden import integrate
from codesign.snn.quantize import thresholds


def test_hand_computed_trace():
    # k = 1, theta = 10: V = V - (V >> 1) + I, floor shift; hard reset to 0 on V >= 10
    cur = np.array([[6, 6, 0, 12, -4, 0, 0, 0]])[:, :, None]
    s, v = integrate(cur, np.array([10]), 1, 16, True)
    assert v[0, :, 0].tolist() == [6, 9, 5, 0, -4, -2, -1, 0]
    assert s[0, :, 0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    ts, tv = lif_integer(torch.as_tensor(cur), torch.tensor([10]), 1, 16, True)
    assert np.array_equal(ts.numpy(), s) and np.array_equal(tv.numpy(), v)


def test_float_lif_same_spikes_on_known_input():
    # the float leak (1 - 2^-k) V and the integer floor leak agree on these inputs
    cur = torch.tensor([[6.0, 6.0, 0.0, 12.0, -4.0, 0.0]])[:, :, None] / 10
    spikes = LIF(1, 1.0)(cur)
    assert spikes[0, :, 0].tolist() == [0, 0, 0, 1, 0, 0]
    ints, _ = integrate((cur * 10).round().long().numpy(), np.array([10]), 1, 16, True)
    assert ints[0, :, 0].tolist() == spikes[0, :, 0].long().tolist()


def test_readout_integrates_and_saturates():
    cur = np.full((1, 6, 1), 100)
    _, v = integrate(cur, np.array([0]), 2, 8, False)
    assert v[0, :, 0].tolist() == [100, 127, 127, 127, 127, 127]  # 8-bit saturation


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-300, 300), min_size=1, max_size=40),
    st.integers(0, 4),
    st.integers(1, 400),
    st.booleans(),
)
def test_golden_equals_torch_integer(currents, k, th, spiking):
    cur = np.array(currents)[None, :, None]
    s, v = integrate(cur, np.array([th]), k, 12, spiking)
    ts, tv = lif_integer(torch.as_tensor(cur), torch.tensor([th]), k, 12, spiking)
    assert np.array_equal(ts.numpy(), s) and np.array_equal(tv.numpy(), v)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-200, 200), min_size=1, max_size=30),
    st.integers(0, 3),
    st.integers(1, 2**16 - 1),
)
def test_state_quantized_float_lif_is_the_integer_lif(currents, k, sig):
    scale = sig * 2.0**-22  # a 16-bit significand scale like the weight quantizers make
    th = thresholds(np.array([scale]))
    cur_int = np.array(currents)[None, :, None]
    s, _ = integrate(cur_int, th, k, 40, True)
    lif = LIF(k, 1.0)
    fs = lif(torch.as_tensor(cur_int * scale), torch.tensor([scale], dtype=torch.float64))
    assert np.array_equal(fs.numpy().astype(np.int64), s)
