"""AdaLog through the flow: a briefly trained digits_mlp, exported with codesign.LogQuant nodes,
lowered to encoder/decoder stages; golden == PyTorch on every tensor, stage intermediates
included; malformed LogQuant nodes are rejected by name."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from qonnx.custom_op.registry import getCustomOp
from trained_variants import trained_adalog

from codesign import checkpoint
from codesign.errors import CodesignError
from codesign.ir.chain import from_onnx, load_int_graph
from codesign.ir.compare import compare_layers
from codesign.quant.adalog_rule import LogQuantSpec

ORDER = ["input", "fc0.pre", "fc0", "fc1.in", "fc1.pre", "fc1", "fc2.in", "fc2"]


@pytest.fixture(scope="module")
def model_dir():
    return trained_adalog()


@pytest.fixture(scope="module")
def golden(model_dir):
    with np.load(model_dir / "golden" / "layers.npz") as d:
        return {k: d[k] for k in d.files}


def _pytorch(model_dir, monkeypatch) -> dict[str, np.ndarray]:
    """The trained model's own integer tensors on the test split, in float64: the oracle."""
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(model_dir.parent))
    from codesign import flow
    from codesign.data.digits import digits_split

    _, qm, _ = flow.load_trained("digits_mlp")
    x = digits_split()[2]
    with torch.no_grad():
        outs = qm.double().eval().forward_layers(torch.as_tensor(x).double())
    pt = {"input": (outs[0].value / outs[0].scale).numpy(), "fc2": (outs[3].value / outs[3].scale)}
    for i, st in enumerate(outs[1:3]):
        pt[f"fc{i}.pre"], pt[f"fc{i}"] = st.u.numpy(), st.codes.numpy()
        pt[f"fc{i + 1}.in"] = (st.value / st.scale).numpy()
    pt["fc2"] = pt["fc2"].numpy()
    return {k: np.asarray(v).astype(np.int64) for k, v in pt.items()}


def test_golden_equals_pytorch_on_every_tensor(model_dir, golden, monkeypatch):
    rep = json.loads((model_dir / "reports" / "golden.json").read_text())
    assert rep["mismatches"] == 0 and rep["samples"] == 360, rep["first_mismatch"]
    assert rep["accuracy_golden"] == rep["accuracy_quant"] > 0.5
    pt = _pytorch(model_dir, monkeypatch)
    cmp = compare_layers(golden, pt, ORDER, "golden", "pytorch")
    assert cmp["mismatches"] == 0, cmp["first_mismatch"]
    assert (golden["fc0"] == 15).any() and (golden["fc0"] < 15).any()  # zero code and levels


def test_a_planted_encoder_threshold_is_named_against_pytorch(model_dir, golden, monkeypatch):
    """One AdaLog encoder threshold of the golden graph moved half-way to the next one: the
    golden-vs-PyTorch checker names fc0 (the codes), the sample, the channel and both values,
    and the tensor before it (fc0.pre) stays clean."""
    from codesign.ir import chain

    pt = _pytorch(model_dir, monkeypatch)
    g = load_int_graph(model_dir / "onnx" / "model.onnx", "digits_mlp")
    th = g.source.producer(g.tensor_of["fc0"]).params["thresholds"][0]  # the node's own array
    u = golden["fc0.pre"]
    busy = [int(((u >= th[k]) & (u < th[k + 1])).sum()) for k in range(len(th) - 1)]
    k = int(np.argmax(busy))
    assert th[k + 1] - th[k] >= 2
    th[k] = (th[k] + th[k + 1]) // 2
    cmp = compare_layers(chain.run(g, golden["input"]), pt, ORDER, "golden", "pytorch")
    f = cmp["first_mismatch"]
    assert f["layer"] == "fc0" and cmp["layers"]["fc0.pre"] == 0
    assert f["golden"] != f["pytorch"] == pt["fc0"][f["sample"], f["index"]]


def test_export_carries_the_searched_parameters(model_dir):
    proto = onnx.load(str(model_dir / "onnx" / "model.onnx"))
    nodes = [n for n in proto.graph.node if n.op_type == "LogQuant"]
    assert len(nodes) == 2 and all(n.domain == "codesign" for n in nodes)
    ck = checkpoint.load(model_dir / "checkpoint.pt", model="digits_mlp")["quant"]
    g = load_int_graph(model_dir / "onnx" / "model.onnx", "digits_mlp")
    for i, node in enumerate(nodes):
        a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
        q, r, off = (int(ck[f"stages.{i}.{k}"]) for k in ("q", "r", "a_off"))
        assert (a["q"], a["r"], a["a_exp"] - a["in_exp"], a["bits"]) == (q, r, off, 4)
        spec = LogQuantSpec(4, q, r, a["frac_bits"], off)
        assert list(a["thresholds"]) == spec.thresholds.tolist()
        assert list(a["lut"]) == spec.lut.tolist()
        lay, nxt = g.layers[i], g.layers[i + 1]
        assert lay.out_stage.spec == nxt.in_stage.spec == spec
        assert nxt.in_stage.decoded_q.scale_exp == a["a_exp"] - a["frac_bits"]
        assert lay.out_stage.ops(64) == {"compare": 64 * 15}
        assert nxt.in_stage.ops(64) == {"lut": 64, "shift": 64}


def test_qonnx_execution_of_the_op_matches_the_golden_model(model_dir, golden):
    proto = onnx.load(str(model_dir / "onnx" / "model.onnx"))
    node = next(n for n in proto.graph.node if n.op_type == "LogQuant")
    a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
    ctx = {node.input[0]: (golden["fc0.pre"] * 2.0 ** a["in_exp"]).astype(np.float32)}
    getCustomOp(node).execute_node(ctx, proto.graph)
    y = ctx[node.output[0]].astype(np.float64) * 2.0 ** (a["frac_bits"] - a["a_exp"])
    assert np.array_equal(y, golden["fc1.in"])


def _tampered(model_dir, **attrs) -> tuple[onnx.ModelProto, str]:
    proto = onnx.load(str(model_dir / "onnx" / "model.onnx"))
    node = next(n for n in proto.graph.node if n.op_type == "LogQuant")
    for k, v in attrs.items():
        a = next(x for x in node.attribute if x.name == k)
        a.CopyFrom(onnx.helper.make_attribute(k, v))
    return proto, node.name


def test_tampered_or_bad_log_quant_nodes_are_rejected(model_dir):
    proto, name = _tampered(model_dir, r=0)
    with pytest.raises(CodesignError, match=f"node '{name}' \\(LogQuant\\): AdaLog: r = 0"):
        from_onnx(proto)
    proto, name = _tampered(model_dir, bits=9)
    with pytest.raises(CodesignError, match=f"node '{name}'.*bits = 9 out of range"):
        from_onnx(proto)
    p0 = onnx.load(str(model_dir / "onnx" / "model.onnx"))
    th = list(next(n for n in p0.graph.node if n.op_type == "LogQuant").attribute)
    th = list(onnx.helper.get_attribute_value(next(x for x in th if x.name == "thresholds")))
    th[3] += 1
    proto, name = _tampered(model_dir, thresholds=th)
    with pytest.raises(CodesignError, match=f"node '{name}'.*thresholds differ"):
        from_onnx(proto)
    first = next(n for n in p0.graph.node if n.op_type == "LogQuant")
    a = {x.name: onnx.helper.get_attribute_value(x) for x in first.attribute}
    proto, name = _tampered(model_dir, in_exp=a["in_exp"] - 1, a_exp=a["a_exp"] - 1)
    with pytest.raises(CodesignError, match=f"node '{name}'.*expects unsigned 8-bit input"):
        from_onnx(proto)


def test_generated_top_inserts_the_units_and_refuses_other_stages(model_dir, tmp_path):
    from codesign.rtl.folding import load_folding
    from codesign.rtl.generate import generate
    from codesign.rtl.toolenv import REPO_ROOT

    g = load_int_graph(model_dir / "onnx" / "model.onnx", "digits_mlp")
    fold = load_folding(REPO_ROOT / "flows" / "digits_mlp.yaml", g)
    man = generate(g, fold, tmp_path / "rtl")
    top = (tmp_path / "rtl" / man["top_file"]).read_text()
    for inst in ("u_fc0_enc", "u_fc1_dec", "u_fc1_enc", "u_fc2_dec"):
        assert inst in top
    assert {"cs_log_encode.v", "cs_log_decode.v"} <= set(man["sources"])
    spec = g.layer("fc0").out_stage.spec
    th = sum(int(t) << (i * 9) for i, t in enumerate(spec.thresholds))  # packed, 9-bit entries
    assert f".TH({15 * 9}'h{th:x})" in top
    lut = sum(int(v) << (i * 9) for i, v in enumerate(spec.lut))
    assert f".LUT({spec.r * 9}'h{lut:x})" in top
    assert man["layers"][1]["in_bits"] == spec.out_bits  # fc1 multiplies decoded values
    stage = g.layer("fc1").out_stage
    stage.kind = "asq"  # an ASQ unit needs a dynamic-scale consumer, which fc2 is not
    with pytest.raises(CodesignError, match="layer 'fc1': ASQ stage without a dynamic-scale"):
        generate(g, fold, tmp_path / "rtl2")
    stage.kind = "delta"  # a stage the generated top cannot build
    with pytest.raises(CodesignError, match="does not support delta on layer 'fc1'"):
        generate(g, fold, tmp_path / "rtl3")
