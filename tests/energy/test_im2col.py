"""The im2col form of every layer kind equals the golden accumulators; rows by hand."""

import numpy as np
from zoo_fixtures import (
    codenet_graph,
    codenet_input,
    hand_input_spikes,
    hand_snn_graph,
    snn_dense_graph,
    snn_hd_graph,
    spikes,
)

from codesign.codenet import golden as cgolden
from codesign.codenet.graph import codenet_net
from codesign.energy import im2col
from codesign.snn import golden as sgolden
from codesign.snn.graph import spiking_net


def _all(layer):
    return np.concatenate(list(layer.vectors()), axis=0)


def test_dense_delay_rows_by_hand():
    lay = spiking_net(hand_snn_graph(3)).layers[0]  # w [[3, 0], [-2, 5]], synapse 1 <- 0 at delay 1
    s = hand_input_spikes(3)  # input 0 at t = 0, input 1 at t = 2
    m = im2col.snn_layer(lay, s)
    # rows (i, d): (0, 0), (0, 1), (1, 0)
    assert m.weight.tolist() == [[3, 0], [0, -2], [0, 5]]
    assert _all(m)[0].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert (m.per_inference, m.xmax, m.neurons) == (3, 1, 2)


def test_snn_layers_equal_the_golden_synaptic_current():
    for g in (snn_dense_graph(), snn_hd_graph()):
        x = spikes(g, 40)
        t = sgolden.run(g, x)
        src = x
        for lay, m in zip(spiking_net(g).layers, im2col.snn_layers(g, t), strict=True):
            cur = sgolden.synaptic_current(lay, src)  # bias included
            bias = lay.bias.reshape(1, 1, -1, *([1] * (cur.ndim - 3)))
            ref = cur - bias  # (N, T, O[, H, W])
            y = _all(m).astype(np.int64) @ m.weight  # (N, P, O)
            if lay.kind == "hdconv":
                ref = ref.transpose(0, 1, 3, 4, 2)
            assert np.array_equal(y, ref.reshape(y.shape)), lay.name
            src = t[lay.name]


def test_codenet_layers_equal_the_golden_accumulators():
    g = codenet_graph()
    t = cgolden.run(g, codenet_input(g), accumulators=True)
    assert len(np.unique(np.clip(t["off1"], -7, 8))) > 1  # the deformable taps move
    for lay, m in zip(codenet_net(g).layers, im2col.codenet_layers(g, t), strict=True):
        acc = t[f"{lay.name}.acc"]  # (N, O, H, W), sum w * x over raw int8 inputs
        # the crossbar sees x - zp; the zp * sum(w) term is a per-output constant
        zp_term = lay.in_zp * lay.weight.sum(axis=1)
        ref = acc.transpose(0, 2, 3, 1).reshape(len(acc), -1, acc.shape[1]) - zp_term
        assert np.array_equal(_all(m) @ m.weight, ref), lay.name
        assert _all(m).min() >= -m.xmax and _all(m).max() <= m.xmax
