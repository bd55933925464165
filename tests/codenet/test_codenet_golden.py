"""Export -> ONNX (codesign.DeformConv) -> golden; golden == PyTorch integer mode; qonnx agrees."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from codesign.codenet import export, golden
from codesign.codenet.graph import codenet_net
from codesign.codenet.model import FloatCodeNet, QuantCodeNet
from codesign.data.detection import make_detection_set
from codesign.errors import CodesignError
from codesign.ir.compare import compare_layers


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """An untrained 8-channel model with strong offsets (s spans the clamp range), exported."""
    torch.manual_seed(0)
    fm = FloatCodeNet(8, 3, 2)
    with torch.no_grad():
        for d in fm.dws:
            d.offset.weight.normal_(0, 40.0)
            d.offset.bias.fill_(1.0)
    ds = make_detection_set(6, seed=5)
    qm = QuantCodeNet.from_float(fm)
    qm.calibrate(torch.as_tensor(ds.images))
    path = tmp_path_factory.mktemp("cn") / "model.onnx"
    export.write_onnx(export.to_graph(qm, "codenet_small", (16, 16, 16), 4, 4), path)
    return qm, ds, path


def test_golden_equals_pytorch_integer_mode(small):
    qm, ds, path = small
    g = export.load_graph(path, "codenet_small")
    gt = golden.run(g, golden.image_to_input(g, ds.images))
    pt = {
        k: v.numpy().astype(np.int64) for k, v in qm.forward_int(torch.as_tensor(ds.images)).items()
    }
    rep = compare_layers(gt, pt, None, "golden", "pytorch")
    assert rep["mismatches"] == 0, rep["first_mismatch"]
    s = np.clip(gt["off1"], -7, 8)
    assert len(np.unique(s)) >= 5  # the deformable path is really exercised
    assert (gt["dw1"] != 0).any()


def test_qat_forward_is_the_integer_model(small):
    qm, ds, _ = small
    x = torch.as_tensor(ds.images[:2])
    q = qm.forward_int(x)["head"]
    torch.testing.assert_close(qm(x).double(), qm.head_real(q), rtol=0, atol=0)


def test_qonnx_execution_of_the_graph_file_equals_golden(small):
    """The file's wiring: qonnx's executor runs each node's registry op (not an oracle)."""
    from codesign.graph.onnx_file import DOMAIN
    from codesign.graph.qonnx_ops import run_with_qonnx

    _, ds, path = small
    g = export.load_graph(path)
    gt = golden.run(g, golden.image_to_input(g, ds.images[:1]))
    ctx = run_with_qonnx(path, gt["input"])
    for lay in codenet_net(g).layers:
        assert np.array_equal(ctx[lay.name], gt[lay.name]), lay.name
    assert any(n.op_type == "DeformConv" and n.domain == DOMAIN for n in onnx.load(path).graph.node)


def test_planted_bias_fault_is_named_against_pytorch(small):
    """The checker `codesign golden` runs (golden vs PyTorch integer mode), with one post-bias
    of the exported graph changed: it names dw2, channel 3, the image and both values."""
    qm, ds, path = small
    g = export.load_graph(path)
    x = golden.image_to_input(g, ds.images[:2])
    g.producer("dw2").params["add"][3] += 5 << 16  # dw2's post-bias, channel 3
    pt = {
        k: v.numpy().astype(np.int64)
        for k, v in qm.forward_int(torch.as_tensor(ds.images[:2])).items()
    }
    rep = compare_layers(golden.run(g, x), pt, None, "golden", "pytorch")
    f = rep["first_mismatch"]
    assert f["layer"] == "dw2" and f["index"][0] == 3 and f["golden"] != f["pytorch"]
    assert pt["dw2"][f["sample"]][tuple(f["index"])] == f["pytorch"]
    assert rep["layers"]["dw1"] == 0  # the layers before it stay clean


def test_bad_files_named(small, tmp_path):
    _, _, path = small
    with pytest.raises(CodesignError, match="no ONNX file"):
        export.load_graph(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(CodesignError, match="malformed"):
        export.load_graph(bad)
    m = onnx.load(path)
    m.graph.node[1].op_type = "Frobnicate"
    odd = tmp_path / "odd.onnx"
    onnx.save(m, odd)
    with pytest.raises(CodesignError, match=f"node '{m.graph.node[1].name}': unknown op 'Frob"):
        export.load_graph(odd)
    m = onnx.load(path)
    m.graph.node[1].op_type = "MaxPool"  # a known op where the file says a Requant: shapes differ
    onnx.save(m, odd)
    with pytest.raises(CodesignError, match=f"node '{m.graph.node[1].name}'"):
        export.load_graph(odd)
