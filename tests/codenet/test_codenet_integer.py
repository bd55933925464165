"""CoDeNet integer rules: the published requantisation vectors (REFERENCES.md), the -128 padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.codenet import golden
from codesign.codenet import integer as I
from codesign.errors import CodesignError

# (acc, scale, bias, relu) -> out: the accelerator's published test vectors (ACT_W = 8, SHIFT 16)
VECTORS = [
    (100, 16384, 3, True, -100),
    (1000, 32768, 0, True, 127),
    (-100, 16384, 3, False, -22),
    (6, 16384, 0, False, 2),
]


@pytest.mark.parametrize("acc,scale,bias,relu,out", VECTORS)
def test_published_vectors_numpy(acc, scale, bias, relu, out):
    assert int(I.requant(np.array([acc]), np.array([scale]), np.array([bias]), relu)[0]) == out


@pytest.mark.parametrize("acc,scale,bias,relu,out", VECTORS)
def test_published_vectors_torch_integer_mode(acc, scale, bias, relu, out):
    from codesign.codenet.model import QLayer

    lay = QLayer("t", "pw", torch.ones(1, 1), torch.zeros(1), relu, 4, "input")
    q = lay.requant_torch(
        torch.tensor([[[[float(acc)]]]], dtype=torch.float64), {"scale": [scale], "bias": [bias]}
    )
    assert int(q.item()) == out


def test_negative_half_variant_differs_where_documented():
    # acc*scale = 6*16384 = 98304 = 1.5 * 2^16: unconditional +2^15 -> 2, negative-only -> 1
    assert (
        int(
            I.requant(np.array([6]), np.array([16384]), np.array([0]), False, "codenet_neg_half")[0]
        )
        == 1
    )
    with pytest.raises(CodesignError, match="rule"):
        I.requant(np.array([1]), np.array([1]), np.array([0]), False, "truncate")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-(2**23), 2**23 - 1),
    st.integers(0, 2**15 - 1),
    st.integers(-(2**15), 2**15 - 1),
    st.booleans(),
)
def test_requant_matches_python_bigint(acc, scale, bias, relu):
    q = ((acc * scale + 2**15) >> 16) + bias  # Python >> is arithmetic (floor)
    if relu:
        q = max(q, 0) - 128
    want = min(max(q, -128), 127)
    assert int(I.requant(np.array([acc]), np.array([scale]), np.array([bias]), relu)[0]) == want


def test_outside_taps_read_minus_128():
    """1 channel, centre weight 0, all others 1, s = 8 on a 4x4 image: every tap is outside."""
    x = np.full((1, 1, 4, 4), 5, np.int64)
    w = np.ones((1, 9), np.int64)
    w[0, 4] = 0
    acc = golden.deform_acc(x, np.full((1, 4, 4), 8), w)
    assert (acc == 8 * -128).all()
    # s = 1 at the corner (0, 0): 4 taps inside (incl. the centre, weight 0), 5 outside
    acc1 = golden.deform_acc(x, np.ones((1, 4, 4), np.int64), w)
    assert acc1[0, 0, 0, 0] == 3 * 5 + 5 * -128


def test_scale_clamped_to_hardtanh_bounds():
    x = np.arange(16 * 16, dtype=np.int64).reshape(1, 1, 16, 16) % 97 - 40
    w = np.arange(9, dtype=np.int64).reshape(1, 9) - 4
    a = golden.deform_acc(x, np.full((1, 16, 16), 100), w)
    b = golden.deform_acc(x, np.full((1, 16, 16), 8), w)
    c = golden.deform_acc(x, np.full((1, 16, 16), -100), w)
    d = golden.deform_acc(x, np.full((1, 16, 16), -7), w)
    assert np.array_equal(a, b) and np.array_equal(c, d)


def test_input_quantisation_and_space_to_depth():
    img = np.array([[[[0.0, 1.0], [0.5, 0.25]]]])
    q = I.quantize_image(img)
    assert q.tolist() == [[[[-128, 127], [0, -64]]]]
    s2d = I.space_to_depth(np.arange(16).reshape(1, 1, 4, 4), 2)
    assert s2d[0, :, 0, 0].tolist() == [0, 1, 4, 5]
    with pytest.raises(CodesignError, match="multiple"):
        I.space_to_depth(np.zeros((1, 1, 5, 4)), 2)


def test_params_from_real_folds_zero_point():
    scale, bias = I.params_from_real(np.array([0.25]), np.array([3.0]), np.array([10]), -128)
    assert scale.tolist() == [16384]
    assert bias.tolist() == [3 + 128 * 0.25 * 10]  # 323: the -128 zero point times sum(w) * M


def test_graph_deformconv_equals_the_accelerators_addressing():
    """The golden op pads and gathers; integer.deform_taps clamps the index and masks (the
    accelerator's line-buffer addressing): random maps over the whole dilation range agree."""
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (3, 4, 9, 7))
    s = rng.integers(-7, 9, (3, 9, 7))
    w = rng.integers(-8, 8, (4, 9))
    want = (I.deform_taps(x, s, I.ZP) * w[None, None, None]).sum(axis=-1).transpose(0, 3, 1, 2)
    assert np.array_equal(golden.deform_acc(x, s, w), want)


def test_a_requantisation_other_than_codenets_is_refused_by_node():
    """The CoDeNet backends take only the accelerator's rule; another Requant (here shift 15)
    is named, while the golden executor still runs the graph."""
    from codenet_testgraphs import spec

    from codesign.codenet.graph import build, codenet_net
    from codesign.graph.execute import run

    lay = spec("pw0", "pw", "input", np.ones((2, 2)), [1, 1], [0, 0], False, -8, 0, 8)
    g = build("t", (2, 3, 3), [lay], 2, 4, 4)
    codenet_net(g)
    g.nodes[-1].attrs["shift"] = 15
    with pytest.raises(CodesignError, match="node 'pw0' \\(Requant\\): not CoDeNet's requant"):
        codenet_net(g)
    run(g, np.zeros((1, 2, 3, 3), np.int64))


def test_the_lowering_refuses_what_the_accelerator_cannot_store():
    """A post-bias beyond int16 (edited into the Requant's add) and out-of-image taps reading
    0 instead of the zero point are named by node, not packed into the RTL wrongly."""
    from codenet_testgraphs import spec

    from codesign.codenet.graph import build, codenet_net

    stem = spec("stem", "pw", "input", np.ones((2, 2)), [9000, 9000], [1, 1], True, -8, I.ZP, 8)
    off = spec("off", "pw", "stem", np.ones((1, 2)), [9000], [0], False, -8, 0, 8)
    dw = spec("dw", "dw", "stem", np.ones((2, 9)), [9000, 9000], [0, 0], False, -8, 0, 4, "off")
    g = build("t", (2, 4, 4), [stem, off, dw], 2, 4, 4)
    assert [lay.name for lay in codenet_net(g).layers] == ["stem", "off", "dw"]
    g.producer("stem").params["add"][0] += 40000 << 16
    with pytest.raises(CodesignError, match="node 'stem' \\(Requant\\): .*bias must be .*int16"):
        codenet_net(g)
    g = build("t", (2, 4, 4), [stem, off, dw], 2, 4, 4)
    g.producer("dw.acc").params["pad_value"][:] = 0
    with pytest.raises(CodesignError, match="node 'dw.acc' \\(DeformConv\\): out-of-image"):
        codenet_net(g)
