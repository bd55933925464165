"""LutQuant -> QONNX Quant rewrite and the fixed-point types hls4ml gets (no compiler needed)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.hls.precision import act_type, layer_types
from codesign.ir.graph import DenseLayer, QuantSpec, Requant


def test_lutquant_rewrite_is_exact(trained_digits):
    """The plain-QONNX graph computes the same floats as the export, and no LutQuant is left."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    from codesign import paths
    from codesign.hls.common import golden_tensors, int_graph, plain_qonnx
    from codesign.ir import custom_ops  # noqa: F401

    orig = ModelWrapper(str(paths.onnx_path("digits_mlp")))
    plain = plain_qonnx("digits_mlp")
    assert not plain.get_nodes_by_op_type("LutQuant")
    # 4 activation + 3 weight + 3 bias quantizers (the hls4ml rewrite replaces the bias ones)
    assert len(plain.get_nodes_by_op_type("Quant")) == 10
    gold = golden_tensors("digits_mlp")
    graph = int_graph("digits_mlp")
    s_in, s_out = 2.0**graph.input_q.scale_exp, 2.0**graph.output_q.scale_exp
    name_o, name_p = orig.graph.input[0].name, plain.graph.input[0].name
    for i in range(0, 360, 45):
        x = (gold["input"][i : i + 1] * s_in).astype(np.float32)
        a = execute_onnx(orig, {name_o: x})[orig.graph.output[0].name]
        b = execute_onnx(plain, {name_p: x})[plain.graph.output[0].name]
        assert np.array_equal(a, b)
        assert np.array_equal(b / s_out, gold["fc2"][i : i + 1])


def test_lutquant_rejects_inexact_scale():
    """A scale whose product with the codebook is not exact in float32 is refused, by name."""
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper

    from codesign.hls.lutquant import LutQuantToQuant

    node = helper.make_node("LutQuant", ["i", "c", "s"], ["w"], name="lq", domain="codesign")
    g = helper.make_graph(
        [node], "g", [], [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 2])]
    )
    mw = ModelWrapper(helper.make_model(g))
    mw.set_initializer("i", np.array([[0, 1]], dtype=np.int64))
    mw.set_initializer("c", np.array([-181, 181], dtype=np.int64))
    mw.set_initializer("s", np.array([[1.0 + 2.0**-23]], dtype=np.float32))  # 24-bit significand
    with pytest.raises(CodesignError, match="'lq'.*not exact in float32"):
        mw.transform(LutQuantToQuant())


def test_types_hand_computed():
    """One 2x2 layer, types worked out by hand (see codesign/hls/precision.py)."""
    lay = DenseLayer(
        name="fc0",
        weight=np.array([[3, -2], [1, 1]]),
        bias=np.array([5, -6]),
        # s_in = 2**-7, s_out = 2**-5: m / 2**shift = s_in * s_w / s_out
        requant=Requant(np.array([3, 5]), np.array([4, 6]), lo=0, hi=255),
        in_q=QuantSpec(8, False, -7),
        out_q=QuantSpec(8, False, -5),
        relu=True,
        quantizer="uniform",
        weight_bits=3,
    )
    t = layer_types(lay)
    # s_w = m * 2**(e_out - e_in - shift) = 3 * 2**-2, 5 * 2**-4 -> 4 fractional bits
    assert np.array_equal(t.scale_values, [0.75, 0.3125])
    assert t.scale == "fixed<5,1>"  # 12/16 and 5/16: 4-bit magnitude + sign, 4 fraction bits
    # acc bound per channel: 5 * 255 + 5 = 1280, 2 * 255 + 6 = 516 -> 12 bits signed, 7 frac
    assert t.accum == "fixed<12,5>"
    assert t.bias == "fixed<4,-3>"  # |bias| <= 6 -> 4 bits signed, on the 2**-7 grid
    # product bound: max(1280 * 12, 516 * 5) = 15360 -> 15 bits signed; 7 + 4 frac bits
    assert t.scaled == "fixed<15,4>"
    assert t.out == act_type(lay.out_q) == "ufixed<8,3>"
    assert np.array_equal(t.bias_values, [5 * 2.0**-7, -6 * 2.0**-7])
