"""codenet_tiny with POST weights: integer form by hand, errors, golden and RTL bit-exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from codenet_testgraphs import spec

from codesign.codenet.model import QLayer, post_frac_bits
from codesign.errors import CodesignError
from codesign.paths import using_workspace
from codesign.rtl.toolenv import which

TINY = {
    "model": {"channels": 8, "blocks": 2},
    "data": {"train": 48, "test": 12},
    "train": {"float_epochs": 1, "rounded_epochs": 1, "qat_epochs": 1, "batch_size": 16},
    "rtl": {"sim_images": 1, "yosys": False},
}


def post_layer(quant: str) -> QLayer:
    w = torch.tensor([[0.5, -0.26, 0.1, 0.04], [0.2, 0.0, -0.1, 0.05]])
    lay = QLayer("t", "pw", w, torch.tensor([0.25, 0.0]), False, 3, "input", quant=quant)
    with torch.no_grad():
        lay.wq.alpha.copy_(torch.tensor([[0.5], [0.25]]))  # exact powers of two
    lay.in_exp, lay.out_exp = -8, -6
    return lay


def test_post2_integer_weights_by_hand():
    """3-bit base 2: magnitudes {1, 1/2, 1/4} (1/8 dropped) x 2^6 -> {64, 32, 16}.

    Row 0, alpha 0.5: W/alpha = [1, -0.52, 0.2, 0.08] -> levels [1, -1/2, 1/4, 0]; row 1, alpha
    0.25: [0.8, 0, -0.4, 0.2] -> [1, 0, -1/2, 1/4]. One integer step is alpha / 64 (2^-7, 2^-8);
    M = step * 2^(in_exp - out_exp) = 2^-9, 2^-10 -> 16-bit scale 2^16 M = 128, 64; bias 0.25 /
    2^-6 = 16.
    """
    lay = post_layer("post2")
    assert post_frac_bits(3, "post2") == 6
    assert lay.codebook == [-64, -32, -16, 0, 16, 32, 64]
    p = lay.int_params()
    assert p["weight"].tolist() == [[64, -32, 16, 0], [64, 0, -32, 16]]
    assert p["scale"].tolist() == [128, 64] and p["bias"].tolist() == [16, 0]
    # the QAT forward weight is the same real value: step x integer
    want = torch.tensor([[64, -32, 16, 0], [64, 0, -32, 16]]) * torch.tensor([[2**-7], [2**-8]])
    assert torch.equal(lay.fake_weight().detach(), want)
    # PyTorch integer mode on one pixel == the CoDeNet rule computed by hand
    x = torch.tensor([10.0, -20.0, 30.0, 40.0], dtype=torch.float64).view(1, 4, 1, 1)
    acc = [64 * 10 + 32 * 20 + 16 * 30, 64 * 10 - 32 * 30 + 16 * 40]  # 1760, 320
    out = [((a * s + 2**15) >> 16) + b for a, s, b in zip(acc, [128, 64], [16, 0], strict=True)]
    assert lay.forward_int(x).view(-1).tolist() == out == [19, 0]


def test_post_sqrt2_codebook_and_alpha_gradient():
    lay = post_layer("post")
    # 3-bit sqrt2: {1, 0.7071, 0.5} x 64 -> {64, 45, 32} (0.3536 dropped to fit 3-bit indices)
    assert lay.codebook == [-64, -45, -32, 0, 32, 45, 64]
    # row 1: 0.8 lies below the 45/64 | 1 midpoint (109/128 = 0.852) -> 45; 0.2 below 0.25 -> 0
    assert lay.int_params()["weight"].tolist() == [[64, -32, 0, 0], [45, 0, -32, 0]]
    lay.fake_weight().sum().backward()
    assert lay.wq.alpha.grad is not None and lay.wq.alpha.grad.abs().sum() > 0


@pytest.mark.parametrize("quant", ["post", "post2"])
def test_post_wider_than_4_bits_is_rejected_naming_the_key(quant):
    assert post_frac_bits(4, quant) == 6
    with pytest.raises(CodesignError, match=r"quant.weight_bits=5 .*use quant.weight_bits <= 4"):
        post_frac_bits(5, quant)


def test_config_checks_the_quant_section():
    from codesign.models import codenet_tiny as ct

    assert ct.config()["quant"]["weight_quant"] == "uniform"
    assert ct.config({"quant": {"weight_quant": "post", "weight_bits": 2}})["quant"]["weight_bits"]
    bad = [
        ({"weight_quant": "lsq"}, "quant.weight_quant 'lsq' not one of uniform, post2, post"),
        ({"weight_bits": 9}, "quant.weight_bits 9 must be an integer in 2..8"),
        ({"weight_bits": 1}, "quant.weight_bits 1 must be an integer in 2..8"),
        ({"first_bits": 3.5}, "quant.first_bits must be an integer, got 3.5"),
        ({"weight_quant": "post2", "weight_bits": 6}, "quant.weight_bits=6"),
        ({"act_quant": "asq"}, "no activation-stage units"),
        ({"act_bits": 4}, "activations are A8"),
        ({"wieght_bits": 4}, "unknown setting 'quant.wieght_bits'"),
    ]
    for q, msg in bad:
        with pytest.raises(CodesignError, match=msg):
            ct.config({"quant": q})


def _one(*args, **kw):
    from codesign.codenet.graph import build, codenet_net

    return codenet_net(build("t", (3, 4, 4), [spec("p", "pw", "input", *args, **kw)], 0, 4, 4))


def test_graph_layer_with_codebook():
    ok = _one([[64, -45, 0]], [100], [0], False, 0, 0, 3, codebook=[-64, -45, 0, 45, 64])
    assert ok.layers[0].codebook == (-64, -45, 0, 45, 64)
    with pytest.raises(CodesignError, match="weight 30 is not in its codebook"):
        _one([[64, 30, 0]], [100], [0], False, 0, 0, 3, codebook=[-64, 0, 64])
    with pytest.raises(CodesignError, match="do not fit 2-bit indices"):
        _one([[64, 0, 0]], [100], [0], False, 0, 0, 2, codebook=[-64, -32, 0, 32, 64])
    with pytest.raises(CodesignError, match="weight outside 3 bits"):  # uniform rule unchanged
        _one([[64, 0, 0]], [100], [0], False, 0, 0, 3)


def test_rtl_rejects_weights_beyond_the_8_bit_container():
    from codesign.codenet import rtl
    from codesign.codenet.graph import build, codenet_net

    w = np.full((4, 16), 128)
    lay = spec(
        "p", "pw", "input", w, np.full(4, 100), np.zeros(4), False, 0, 0, 8, codebook=[-128, 0, 128]
    )
    g = codenet_net(build("t", (16, 16, 16), [lay], 0, 4, 4))
    with pytest.raises(CodesignError, match="signed 8-bit weight container"):
        rtl.program(g, rtl.hw_params(g, 4, 4))


@pytest.fixture(scope="module", params=["post2", "post"])
def post_flow(request, tmp_path_factory):
    """codenet_tiny trained (tiny) with 3-bit POST weights, exported and run by the golden model."""
    from codesign.models import codenet_tiny as ct

    root = tmp_path_factory.mktemp(f"cn_{request.param}")
    with using_workspace(root):
        cfg = ct.config({**TINY, "quant": {"weight_quant": request.param, "weight_bits": 3}})
        ct.train(cfg)
        exp = ct.flow_export()
        gold = ct.flow_golden()
        yield request.param, cfg, exp, gold, root


def test_post_export_carries_codebooks_and_golden_is_exact(post_flow):
    quant, _, exp, gold, _ = post_flow
    cb = {"post2": [-64, -32, -16, 0, 16, 32, 64], "post": [-64, -45, -32, 0, 32, 45, 64]}[quant]
    for lay in exp["layers"]:
        if lay["name"].startswith(("stem", "off")):  # first_bits rule: 8-bit uniform as before
            assert lay["weight_bits"] == 8 and lay["codebook"] is None
        else:
            assert lay["weight_bits"] == 3 and lay["codebook"] == cb
    assert gold["mismatches"] == 0 and gold["first_mismatch"] is None
    assert gold["graph_file_wiring_ok"] is True
    assert gold["ap50"]["quant_rounded_pytorch"] == gold["ap50"]["quant_rounded_golden"]


def test_post_checkpoint_reloads_the_same_integer_model(post_flow):
    from codesign.codenet.export import load_graph
    from codesign.codenet.graph import codenet_net
    from codesign.models import codenet_tiny as ct

    _, _, _, _, root = post_flow
    with using_workspace(root):
        _, _, qm, _ = ct.load()
        g = codenet_net(load_graph(root / "codenet_tiny" / "onnx" / "model.onnx"))
    for lay, cl in zip(qm.layers, g.layers, strict=True):
        assert np.array_equal(lay.int_params()["weight"], cl.weight), lay.name
        if lay.wq is not None:
            assert len(np.unique(cl.weight)) > 2, lay.name  # more than one level in use


@pytest.mark.slow
@pytest.mark.skipif(which("verilator") is None, reason="verilator not installed")
def test_post_rtl_equals_golden(post_flow):
    from codesign.models import codenet_tiny as ct

    _, cfg, _, _, root = post_flow
    with using_workspace(root):
        assert ct.flow_rtl(cfg=cfg)["lint"] == {"warnings": 0, "errors": 0}
        s = ct.flow_sim(cfg=cfg)
    assert s["rtl_vs_golden"]["mismatches"] == 0
    assert set(s["rtl_vs_golden"]["layer_mismatches"]) >= {"dw1", "pw1", "head"}
