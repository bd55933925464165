"""An op a flow cannot take stops with the op, the node name and who can take it."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from codesign.errors import CodesignError
from codesign.hls.support import check_ops, who_takes


def _model(op: str, name: str, domain: str = ""):
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu0"),
        helper.make_node(op, ["a"], ["y"], name=name, domain=domain),
    ]
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4, 8, 8]) for n in "xy"]
    return helper.make_model(helper.make_graph(nodes, "g", [vi[0]], [vi[1]]))


def test_deformable_conv_to_finn_names_op_node_and_backend():
    with pytest.raises(CodesignError) as e:
        check_ops(_model("DeformConv", "backbone.dconv3", "codesign"), "FINN")
    msg = str(e.value)
    assert "unsupported op for FINN" in msg
    assert "'backbone.dconv3'" in msg and "DeformConv" in msg
    assert "codesign's own integer model and RTL path" in msg


def test_softmax_to_finn_points_at_hls4ml():
    with pytest.raises(CodesignError, match=r"node 'head' \(Softmax\).*take it: hls4ml"):
        check_ops(_model("Softmax", "head"), "FINN")


def test_unknown_op_says_no_backend():
    with pytest.raises(CodesignError, match="'n7' \\(Frobnicate\\); no codesign backend"):
        check_ops(_model("Frobnicate", "n7"), "hls4ml")


def test_supported_graph_passes_and_lookup():
    check_ops(_model("Relu", "relu1"), "FINN")
    assert "FINN" in who_takes("MatMul") and "hls4ml" in who_takes("MatMul")
