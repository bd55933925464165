"""ASQ + POST digits_mlp through train -> export -> golden: bit-exact with PyTorch (every layer
and the stage's own tensors), the exported op, a planted adapter fault named by the checker,
malformed ASQ nodes rejected, and the `train --set` CLI override."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import helper
from trained_variants import trained_asq

from codesign import cli, flow, paths
from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.ir.chain import from_onnx, load_int_graph
from codesign.ir.compare import compare_layers, describe
from codesign.models import digits_mlp
from codesign.quant.asq import AsqOutput
from codesign.quant.asq_int import AsqIntStage

NAMES = ["fc0", "fc1", "fc2"]


@pytest.fixture(scope="module")
def asq_build():
    root = trained_asq()
    return {"root": root, "golden": json.loads((root / "reports" / "golden.json").read_text())}


def pytorch_tensors(root) -> dict[str, np.ndarray]:
    """Every layer's integers plus the ASQ stages' u ("<layer>.pre"), h and g, in float64."""
    import torch

    from codesign import checkpoint

    ck = checkpoint.load(root / "checkpoint.pt", model="digits_mlp")
    qm = digits_mlp.build(ck["config"])
    qm.load_state_dict(ck["quant"])
    _, _, xte, _ = digits_mlp.data()
    out = flow.torch_integer_tensors(qm, xte, NAMES)
    qm64 = qm.double().eval()
    with torch.no_grad():
        outs = qm64.forward_layers(torch.as_tensor(xte).double())
    for name, o in zip(NAMES, outs[1:], strict=True):
        if isinstance(o, AsqOutput):
            out[f"{name}.pre"] = o.extras["u"].numpy().astype(np.int64)
            out[f"{name}.h"] = o.extras["h"].numpy().astype(np.int64)
            out[f"{name}.g"] = o.extras["g"].numpy().astype(np.int64)
    return out


ORDER = ["input", "fc0.pre", "fc0.h", "fc0.g", "fc0", "fc1.pre", "fc1.h", "fc1.g", "fc1", "fc2"]


def test_golden_equals_pytorch_including_the_stage_tensors(asq_build):
    rep = asq_build["golden"]
    assert rep["samples"] == 360 and rep["mismatches"] == 0
    assert rep["accuracy_golden"] == rep["accuracy_quant"] > 0.5
    saved = dict(np.load(asq_build["root"] / "golden" / "layers.npz"))
    pt = pytorch_tensors(asq_build["root"])
    cmp = compare_layers(saved, pt, ORDER, "golden", "pytorch")
    assert cmp["mismatches"] == 0, describe(cmp, "golden", "pytorch")
    assert saved["fc0"].max() <= 7 and saved["fc0.g"].min() >= 1
    assert len(np.unique(saved["fc0.g"])) > 1  # the step really varies per sample


def test_export_carries_the_asq_op_and_the_graph_has_dynamic_layers(asq_build):
    m = onnx.load(str(asq_build["root"] / "onnx" / "model.onnx"))
    nodes = [n for n in m.graph.node if n.op_type == "AsqQuant"]
    assert len(nodes) == 2 and all(n.domain == "codesign" for n in nodes)
    attrs = {a.name: helper.get_attribute_value(a) for a in nodes[0].attribute}
    assert attrs["bits"] == 3 and attrs["G"] == 8 and attrs["Gf"] == 4
    assert attrs["k"] == attrs["Gf"] + attrs["e_u"] - attrs["e_base"]
    g = load_int_graph(asq_build["root"] / "onnx" / "model.onnx")
    st0, st1 = g.layers[0].out_stage, g.layers[1].out_stage
    assert isinstance(st0, AsqIntStage) and isinstance(st1, AsqIntStage)
    assert (st0.layer, st1.layer) == ("fc0", "fc1") and g.layers[2].out_stage is None
    assert [lay.dyn_in for lay in g.layers] == [False, True, True]
    fc1 = g.layers[1]
    assert fc1.in_q.bits == 3 and fc1.in_q.scale_exp == st0.e_base - st0.Gf
    # the accumulator bound includes the largest g (255): acc * g never overflows
    bound = int((np.abs(fc1.weight).sum(axis=1) * 7 * 255 + np.abs(fc1.bias)).max())
    assert fc1.acc_bits == bound.bit_length() + 1
    assert st0.ops(64)["mult"] == 64 * st0.hidden + st0.hidden


def test_qonnx_executes_the_asq_node(asq_build):
    """qonnx finds codesign.AsqQuant lazily and its execution equals the golden stage."""
    from qonnx.custom_op.registry import getCustomOp

    m = onnx.load(str(asq_build["root"] / "onnx" / "model.onnx"))
    node = next(n for n in m.graph.node if n.op_type == "AsqQuant")
    op = getCustomOp(node)
    saved = dict(np.load(asq_build["root"] / "golden" / "layers.npz"))
    st = load_int_graph(asq_build["root"] / "onnx" / "model.onnx").layers[0].out_stage
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    ctx = {i: inits[i] for i in node.input[1:]}
    ctx[node.input[0]] = (saved["fc0.pre"] * 2.0**st.e_u).astype(np.float32)
    op.execute_node(ctx, m.graph)
    y = ctx[node.output[0]].astype(np.float64)
    q = y / (saved["fc0.g"][:, None] * 2.0 ** (st.e_base - st.Gf))
    assert np.array_equal(q, saved["fc0"])


def test_flipped_adapter_weight_is_named_by_tensor_and_index(asq_build):
    g = load_int_graph(asq_build["root"] / "onnx" / "model.onnx")
    pt = pytorch_tensors(asq_build["root"])
    st = g.layers[0].out_stage
    u = pt["fc0.pre"]
    # a live weight: the hidden unit most often above 0, the input channel most often non-zero
    j = int((pt["fc0.h"] > 0).sum(axis=0).argmax())
    c = int((u > 0).sum(axis=0).argmax())
    # planted in the one graph's adapter Dense node, which the golden executor runs
    w1 = g.source.producer(g.source.producer(g.tensor_of["fc0.h"]).inputs[0]).params["weight"]
    assert np.array_equal(w1, st.w1)
    w1[j, c] = w1[j, c] ^ 8 if abs(w1[j, c] ^ 8) <= 127 else w1[j, c] - 8
    _, _, xte, _ = digits_mlp.data()
    res = chain.run_float(g, xte)
    rep = compare_layers(res, pt, ORDER, "golden", "pytorch")
    assert rep["mismatches"] > 0
    assert rep["layers"]["fc0.pre"] == 0
    f = rep["first_mismatch"]
    assert f["layer"] == "fc0.h" and f["index"] == j
    assert res["fc0.h"][f["sample"], j] == f["golden"] != f["pytorch"]
    assert "layer fc0.h" in describe(rep, "golden", "pytorch")


def _set_attr(node, name, value):
    for a in node.attribute:
        if a.name == name:
            a.CopyFrom(helper.make_attribute(name, value))


@pytest.mark.parametrize(
    "attr,value,needle",
    [
        ("bits", 9, "bit width 9"),
        ("G", 1, "G=1"),
        ("Gf", 8, "Gf=8"),
        ("k", 40, "k=40"),
        ("e_u", 3, "k != Gf"),
    ],
)
def test_malformed_asq_node_is_rejected_by_name(asq_build, attr, value, needle):
    m = onnx.load(str(asq_build["root"] / "onnx" / "model.onnx"))
    node = next(n for n in m.graph.node if n.op_type == "AsqQuant")
    _set_attr(node, attr, value)
    with pytest.raises(CodesignError, match=needle) as e:
        from_onnx(m, "digits_mlp")
    assert node.name in str(e.value)


def test_cli_set_overrides_parse_and_reject():
    over = cli.parse_overrides(
        ["quant.act_quant=asq", "quant.act_bits=3", "quant.act_quant_args={Gf: 5}"]
    )
    assert over == {"quant": {"act_quant": "asq", "act_bits": 3, "act_quant_args": {"Gf": 5}}}
    assert cli.main(["train", "digits_mlp", "--set", "act_quant=asq"]) == 2
    assert cli.main(["train", "digits_mlp", "--set", "quant.act_bits"]) == 2


def test_cli_train_with_set_writes_an_asq_checkpoint(asq_build, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    argv = ["train", "digits_mlp", "--set", "quant.act_quant=asq", "--set", "quant.act_bits=2"]
    argv += ["--set", "train.float_epochs=1", "--set", "train.qat_epochs=1"]
    assert cli.main(argv) == 0
    rep = json.loads((paths.reports_dir("digits_mlp") / "train.json").read_text())
    assert rep["quant"]["act_quant"] == "asq" and rep["quant"]["act_bits"] == 2
    assert json.loads(capsys.readouterr().out)["quant"]["act_quant"] == "asq"
