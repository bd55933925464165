"""Golden executor: hand-computed delays, equality with PyTorch integer mode (independent conv
implementation), and a planted fault named by layer, sample and index."""

from __future__ import annotations

import numpy as np
import torch
from snn_testgraphs import layers, one_layer, random_spikes

from codesign.ir.compare import compare_layers, describe
from codesign.layers.delay import DelayLinear
from codesign.layers.hdconv import HDConv3d
from codesign.snn import golden
from codesign.snn.graph import spiking_net
from codesign.snn.quantize import init_quant, make_quant


def test_hand_computed_delays():
    # 2 inputs -> 1 neuron: w = (5, 3), delays (3, 0), bias 1
    lay = one_layer([[5, 3]], [[3, 0]], bias=[1])
    x = np.zeros((1, 8, 2), np.int64)
    x[0, 1, 0] = 1  # arrives at t = 4
    x[0, 4, 1] = 1  # arrives at t = 4 too
    x[0, 6, 0] = 1  # would arrive at t = 9: outside the window
    cur = golden.synaptic_current(lay, x)
    assert cur[0, :, 0].tolist() == [1, 1, 1, 1, 9, 1, 1, 1]


def test_membrane_width_bound_never_saturates(dense_graph):
    g = golden.run(dense_graph, random_spikes(dense_graph, 30, p=0.9))
    net = spiking_net(dense_graph)
    hi = 2 ** (net.v_bits - 1) - 1
    for lay in net.layers:
        assert np.abs(g[f"{lay.name}.v"]).max() < hi


def _quant_delay_layer(seed: int) -> DelayLinear:
    torch.manual_seed(seed)
    lay = DelayLinear(6, 5, 9, weight_quant=make_quant("uniform", 5, 6, False), bias=True)
    with torch.no_grad():
        lay.bias.uniform_(-0.3, 0.3)
    init_quant(lay.weight_quant, lay.weight)
    lay.rounded = lay.quant_on = True
    return lay


def test_golden_current_equals_pytorch_integer_mode():
    for seed in range(3):
        lay = _quant_delay_layer(seed)
        wi, _ = lay.integer_weights()
        g = one_layer(wi.numpy(), lay.delays().numpy(), lay.integer_bias().numpy())
        x = (np.random.default_rng(seed).random((4, 25, 6)) < 0.4).astype(np.int64)
        pt = lay.integer_current(torch.as_tensor(x)).numpy()
        assert np.array_equal(golden.synaptic_current(g, x), pt)


def test_golden_hdconv_equals_pytorch_conv3d():
    torch.manual_seed(0)
    conv = HDConv3d(2, 3, 4, 3, make_quant("uniform", 3, 8, False), bias=True)
    init_quant(conv.weight_quant, conv.weight)
    with torch.no_grad():
        conv.bias.uniform_(-0.1, 0.1)
    wi, _ = conv.integer_weights()
    g = one_layer(wi.numpy(), bias=conv.integer_bias().numpy(), input_shape=(2, 6, 7))
    x = (np.random.default_rng(0).random((2, 9, 2, 6, 7)) < 0.3).astype(np.int64)
    assert np.array_equal(golden.synaptic_current(g, x), conv.integer_current(torch.as_tensor(x)))


def test_planted_fault_is_named(dense_graph):
    x = random_spikes(dense_graph, 6)
    ref = golden.run(dense_graph, x)
    w = layers(dense_graph)[1].weight  # fc1's Delay node's own array: (out, in, delay)
    w[2, 3, 1] += 40  # one synapse of fc1 at delay 1
    bad = golden.run(dense_graph, x)
    order = [k for k in ref if k != "input"]
    rep = compare_layers(ref, bad, order, "golden", "faulty")
    assert rep["mismatches"] > 0 and rep["first_mismatch"]["layer"] in ("fc1", "fc1.v")
    assert rep["layers"]["fc0"] == 0 and rep["layers"]["fc0.v"] == 0
    step, neuron = rep["first_mismatch"]["index"]
    assert neuron == 2
    assert "fc1" in describe(rep, "golden", "faulty")
