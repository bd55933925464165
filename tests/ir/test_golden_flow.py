"""Export -> golden round trip on a trained digits_mlp, and the checker catching planted faults."""

import json

import numpy as np
import onnx
import pytest

from codesign import flow, paths
from codesign.graph.ops import quantize
from codesign.ir import chain
from codesign.ir.chain import load_int_graph
from codesign.ir.compare import compare_layers, describe
from codesign.models import digits_mlp


def test_golden_equals_pytorch_on_every_test_sample(trained_digits):
    rep = json.loads((trained_digits / "reports" / "golden.json").read_text())
    assert rep["samples"] == 360
    assert rep["mismatches"] == 0
    assert rep["first_mismatch"] is None
    assert rep["accuracy_golden"] == rep["accuracy_quant"]
    assert rep["accuracy_golden"] > 0.85
    for key in ("accuracy_float", "accuracy_quant", "accuracy_golden"):
        assert 0 <= rep[key] <= 1
    saved = np.load(trained_digits / "golden" / "layers.npz")
    assert set(saved.files) >= {"input", "fc0", "fc1", "fc2", "labels"}
    assert saved["fc2"].shape == (360, 10) and saved["fc2"].dtype == np.int64


def test_export_carries_the_lut_codebook(trained_digits):
    m = onnx.load(str(trained_digits / "onnx" / "model.onnx"))
    luts = [n for n in m.graph.node if n.op_type == "LutQuant"]
    assert len(luts) == 3 and all(n.domain == "codesign" for n in luts)
    g = load_int_graph(trained_digits / "onnx" / "model.onnx")
    for lay in g.layers:
        assert lay.quantizer == "post" and lay.weight_bits == 4
        assert np.array_equal(lay.weight, lay.codebook[lay.indices])
        assert lay.codebook.tolist()[7:] == [0, 32, 45, 64, 91, 128, 181, 256]


def _pytorch_ints():
    _, qm, _ = flow.load_trained("digits_mlp")
    _, _, xte, _ = digits_mlp.data()
    return flow.torch_integer_tensors(qm, xte, ["fc0", "fc1", "fc2"]), xte


def test_flipped_weight_bit_is_named_by_layer_and_index(trained_digits):
    g = load_int_graph(trained_digits / "onnx" / "model.onnx")
    pt, xte = _pytorch_ints()
    lay = g.layer("fc1")
    # a live weight: the busiest input (fc0 output) into the most often active fc1 channel
    j = int(pt["fc0"].mean(axis=0).argmax())
    c = int((pt["fc1"] > 0).sum(axis=0).argmax())
    # flip the lowest bit of its stored index: a neighbouring codebook level
    flipped = lay.indices[c, j] ^ 1
    flipped = flipped if flipped < len(lay.codebook) else lay.indices[c, j] - 1
    # planted in the one graph's Dense node, which the golden executor runs
    (node,) = [n for n in g.source.nodes if n.name == lay.attrs["onnx_node"]]
    node.params["weight"][c, j] = lay.codebook[flipped]
    res = chain.run_float(g, xte)
    rep = compare_layers(res, pt, ["input", "fc0", "fc1", "fc2"], "golden", "pytorch")
    assert rep["mismatches"] > 0
    assert rep["layers"]["fc0"] == 0
    f = rep["first_mismatch"]
    assert f["layer"] == "fc1" and f["index"] == c  # the channel whose weight changed
    assert rep["layers"]["fc1"] == int((res["fc1"][:, c] != pt["fc1"][:, c]).sum())
    assert f["golden"] == res["fc1"][f["sample"], c] and f["pytorch"] == pt["fc1"][f["sample"], c]
    assert "layer fc1" in describe(rep, "golden", "pytorch")


def test_wrong_rounding_is_caught(trained_digits, monkeypatch):
    g = load_int_graph(trained_digits / "onnx" / "model.onnx")
    pt, xte = _pytorch_ints()

    def truncating(x, p, attrs):  # a requantiser that shifts without rounding
        shape = (1, -1) + (1,) * (x.ndim - 2)
        v = x * p["mult"].reshape(shape) + p["add"].reshape(shape)
        return np.clip(np.right_shift(v, int(attrs["shift"])), attrs["lo"], attrs["hi"])

    monkeypatch.setattr(quantize, "dyadic_requant", truncating)
    res = chain.run_float(g, xte)
    rep = compare_layers(res, pt, ["input", "fc0", "fc1", "fc2"], "golden", "pytorch")
    assert rep["mismatches"] > 0
    f = rep["first_mismatch"]
    assert f["layer"] == "fc0"  # the first layer already rounds
    assert f["pytorch"] - f["golden"] == 1  # rounded up in PyTorch, truncated here


@pytest.mark.parametrize("quantizer", ["uniform", "post2"])
def test_other_quantizers_are_bit_exact(build_root, tmp_path, monkeypatch, quantizer):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    over = {
        "quant": {"weight_quant": quantizer, "weight_bits": 3},
        "train": {"float_epochs": 6, "qat_epochs": 4},
    }
    flow.train("digits_mlp", over)
    flow.export("digits_mlp")
    rep = flow.golden("digits_mlp")
    assert rep["mismatches"] == 0
    g = load_int_graph(paths.onnx_path("digits_mlp"))
    expect = "uniform" if quantizer == "uniform" else "post"
    assert {lay.quantizer for lay in g.layers} == {expect}
    if quantizer == "uniform":
        assert max(int(np.abs(lay.weight).max()) for lay in g.layers) <= 3
