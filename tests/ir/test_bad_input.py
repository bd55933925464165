"""Bad input: one clear line on stderr, exit code 2, no traceback, earlier artefacts intact."""

import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper

from codesign.errors import CodesignError
from codesign.ir.chain import load_int_graph
from codesign.models.digits_mlp import QuantMLP


def run_cli(*args, build_dir):
    env = {**os.environ, "CODESIGN_BUILD_DIR": str(build_dir)}
    return subprocess.run(
        [sys.executable, "-m", "codesign.cli", *args], capture_output=True, text=True, env=env
    )


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0]


def test_unknown_model(tmp_path):
    proc = run_cli("golden", "resnet9000", build_dir=tmp_path)
    assert_one_line_error(proc, "unknown model 'resnet9000'", "digits_mlp")


def test_missing_onnx(tmp_path):
    proc = run_cli("energy", "digits_mlp", build_dir=tmp_path)
    assert_one_line_error(proc, "ONNX file not found", "model.onnx")


def test_malformed_onnx_keeps_earlier_reports(tmp_path):
    onnx_dir = tmp_path / "digits_mlp" / "onnx"
    onnx_dir.mkdir(parents=True)
    (onnx_dir / "model.onnx").write_bytes(b"this is not a protobuf")
    rep = tmp_path / "digits_mlp" / "reports"
    rep.mkdir()
    (rep / "energy.json").write_text('{"total_pJ": 1.0}\n')
    proc = run_cli("energy", "digits_mlp", build_dir=tmp_path)
    assert_one_line_error(proc, "malformed ONNX file")
    assert (rep / "energy.json").read_text() == '{"total_pJ": 1.0}\n'
    assert sorted(p.name for p in rep.iterdir()) == ["energy.json"]  # no temporary left behind


def test_unsupported_op_names_node_and_type(trained_digits, tmp_path):
    m = onnx.load(str(trained_digits / "onnx" / "model.onnx"))
    relu = next(n for n in m.graph.node if n.op_type == "Relu")
    relu.op_type = "Sigmoid"
    relu.name = "my_sigmoid"
    path = tmp_path / "digits_mlp" / "onnx" / "model.onnx"
    path.parent.mkdir(parents=True)
    onnx.save(m, str(path))
    with pytest.raises(CodesignError, match=r"unsupported op: node 'my_sigmoid' \(Sigmoid\)"):
        load_int_graph(path)
    proc = run_cli("golden", "digits_mlp", build_dir=tmp_path)
    assert_one_line_error(proc, "my_sigmoid", "Sigmoid")


def test_activation_bit_width_out_of_range_in_onnx(trained_digits, tmp_path):
    m = onnx.load(str(trained_digits / "onnx" / "model.onnx"))
    q = next(n for n in m.graph.node if n.op_type == "Quant")
    bw = next(t for t in m.graph.initializer if t.name == q.input[3])
    bw.CopyFrom(onnx.numpy_helper.from_array(np.array(24.0, dtype=np.float32), bw.name))
    path = tmp_path / "model.onnx"
    onnx.save(m, str(path))
    with pytest.raises(CodesignError, match="bit width 24 out of range"):
        load_int_graph(path)


def test_weight_bit_width_out_of_range():
    with pytest.raises(CodesignError, match="out of range 2..8"):
        QuantMLP(weight_bits=12)


def test_float_weights_are_refused(tmp_path):
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2])
    inits = [
        onnx.numpy_helper.from_array(np.array(2.0**-4, dtype=np.float32), "s"),
        onnx.numpy_helper.from_array(np.array(0.0, dtype=np.float32), "z"),
        onnx.numpy_helper.from_array(np.array(8.0, dtype=np.float32), "b"),
        onnx.numpy_helper.from_array(np.eye(2, dtype=np.float32), "W"),
    ]
    nodes = [
        helper.make_node(
            "Quant",
            ["x", "s", "z", "b"],
            ["xq"],
            name="q_in",
            domain="qonnx.custom_op.general",
            signed=0,
            narrow=0,
            rounding_mode="ROUND",
        ),
        helper.make_node("MatMul", ["xq", "W"], ["h"], name="mm"),
        helper.make_node(
            "Quant",
            ["h", "s", "z", "b"],
            ["y"],
            name="q_out",
            domain="qonnx.custom_op.general",
            signed=1,
            narrow=0,
            rounding_mode="ROUND",
        ),
    ]
    g = helper.make_graph(nodes, "g", [x], [y], inits)
    m = helper.make_model(
        g,
        opset_imports=[
            helper.make_opsetid("", 13),
            helper.make_opsetid("qonnx.custom_op.general", 1),
        ],
    )
    path = tmp_path / "float.onnx"
    onnx.save(m, str(path))
    with pytest.raises(
        CodesignError, match="node 'mm' \\(MatMul\\): weight 'W' is a float constant, not quantized"
    ):
        load_int_graph(path)
