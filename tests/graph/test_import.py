"""External QONNX models through the importer, checked against qonnx's executor (our oracle:
code we did not write), plus planted faults that the checker must name."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.graph import corpus, execute, oracle
from codesign.graph.frontends import qonnx as frontend

MODELS = ("tfc_w1a1", "sfc_w1a2", "cnv_w2a2", "brevitas_mlp", "brevitas_lenet")
N = 12


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    out = {}
    for name in MODELS:
        imp = frontend.import_model(frontend.load(corpus.build(name, folder)), name)
        out[name] = (imp, corpus.sample_inputs(name, N))
    return out


@pytest.mark.parametrize("name", MODELS)
def test_golden_equals_qonnx_on_every_layer(imported, name):
    imp, x = imported[name]
    golden = execute.run(imp.graph, x)
    rep = oracle.compare(imp, golden, oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
    quant_taps = [r for r in rep["layers"] if r["kind"] == "quant"]
    assert len(quant_taps) >= 3
    out = golden[imp.graph.outputs[0]]
    assert out.shape == (N, 10) and len({r.tobytes() for r in out}) > 1


def test_float_scales_become_thresholds_and_pow2_become_shifts(imported):
    forms = {
        n: {"mult" in nd.params for nd in imported[n][0].graph.nodes if nd.op == "Requant"}
        for n in ("brevitas_mlp", "tfc_w1a1")
    }
    assert False in forms["brevitas_mlp"]  # default brevitas scales are not powers of two
    assert forms["tfc_w1a1"] == {False}  # BatchNorm before a bipolar quantizer: thresholds


def test_int8_inputs_are_widened(imported):
    imp, x = imported["brevitas_mlp"]
    dense = next(n for n in imp.graph.nodes if n.op == "Dense")
    q = np.full((2, dense.params["weight"].shape[1]), 127, dtype=np.int8)
    from codesign.graph import ops

    (y,) = ops.get("Dense").execute(dense, [q])
    want = 127 * dense.params["weight"].astype(np.int64).sum(axis=1)
    assert y.dtype == np.int64 and np.array_equal(y[0], want)


def _planted(imp, x, mutate):
    golden = execute.run(imp.graph, x)
    ref = oracle.qonnx_execute(imp.model, x)
    mutate(imp.graph)
    return golden, oracle.compare(imp, execute.run(imp.graph, x), ref)


def test_planted_weight_fault_is_named(imported):
    imp, x = imported["cnv_w2a2"]
    imp = frontend.Imported(*_clone(imp))
    conv = next(n for n in imp.graph.nodes if n.op == "Conv")

    def flip(_):
        conv.params["weight"] = conv.params["weight"].copy()
        conv.params["weight"][0, 0, 1, 1] += 3

    _, rep = _planted(imp, x, flip)
    first = next(r for r in rep["layers"] if r.get("mismatches"))
    assert rep["first_mismatch_layer"] == first["layer"]
    text = oracle.describe(rep)
    assert first["layer"] in text and "index" in text
    f = first["first"]
    assert f["golden"] != round(f["reference"])
    assert f"golden {f['golden']}" in text and "qonnx" in text


def test_planted_threshold_fault_is_named(imported):
    imp, x = imported["brevitas_mlp"]
    imp = frontend.Imported(*_clone(imp))
    rq = [n for n in imp.graph.nodes if n.op == "Requant"][0]
    golden = execute.run(imp.graph, x)
    v = golden[rq.outputs[0]]
    # move the threshold of the level that some output reaches, so that output drops a level
    k = int(np.argmax(v.max(axis=0)))
    level = int(v[:, k].max())
    j = int(np.searchsorted(rq.params["levels"], level)) - 1

    def shift(_):
        rq.params["thresholds"] = rq.params["thresholds"].copy()
        rq.params["thresholds"][k, j] += 10**6
        rq.params.pop("mult", None)

    _, rep = _planted(imp, x, shift)
    row = next(r for r in rep["layers"] if r["layer"] == rq.outputs[0])
    assert row["mismatches"] >= 1 and row["first"]["index"][1] == k
    assert row["first"]["golden"] == level - 1 and round(row["first"]["reference"]) == level


def test_each_layer_is_charged_only_with_its_own_disagreements(imported):
    """A fault planted in one middle Requant makes every later layer differ too; fed qonnx's own
    inputs (local_mismatches), only the planted layer still does."""
    imp, x = imported["cnv_w2a2"]
    imp = frontend.Imported(*_clone(imp))
    rq = [n for n in imp.graph.nodes if n.op == "Requant"][2]

    def shift(_):
        rq.params["thresholds"] = rq.params["thresholds"] + 1
        rq.params.pop("mult", None)

    _, rep = _planted(imp, x, shift)
    checked = [r for r in rep["layers"] if "mismatches" in r]
    later = checked[[r["layer"] for r in checked].index(rq.outputs[0]) + 1 :]
    assert sum(r["mismatches"] for r in later) > 0  # the fault propagates
    own = {r["layer"] for r in checked if r["local_mismatches"]}
    assert own == {rq.outputs[0]}, own
    sums = [r for r in rep["layers"] if r.get("local_max_float_deviation") is not None]
    assert sums and all(r["local_max_float_deviation"] < 0.5 for r in sums)


def test_batched_comparison_equals_one_batch(imported):
    imp, x = imported["tfc_w1a1"]
    imp = frontend.Imported(*_clone(imp))
    dense = next(n for n in imp.graph.nodes if n.op == "Dense")
    ref = oracle.qonnx_execute(imp.model, x)
    dense.params["weight"] = dense.params["weight"].copy()
    dense.params["weight"][:, 3] *= -1  # a fault, so there is something to merge
    whole = oracle.compare(imp, execute.run(imp.graph, x), ref)
    batched = oracle.compare_in_batches(imp, x, batch=5)
    assert whole["mismatches"] > 0
    assert batched == whole


def _clone(imp):
    import copy

    return copy.deepcopy(imp.graph), imp.taps, imp.model, imp.notes


def test_shipped_espcn_differs_only_at_float32_ties():
    """qonnx computes in float32; where its sum lands within float error of a rounding tie it
    can round the other way. The first layer that differs must be such a tie, and so must every
    disagreement a layer makes on qonnx's own inputs."""
    path = corpus.qonnx_data_models()["espcn_nn_resize"]
    imp = frontend.import_model(frontend.load(path), "espcn")
    x = (np.random.default_rng(0).integers(0, 256, (2, 3, 128, 128)) / 255).astype(np.float32)
    rep = oracle.compare(imp, execute.run(imp.graph, x), oracle.qonnx_execute(imp.model, x))
    quant = [r for r in rep["layers"] if r["kind"] == "quant"]
    assert quant[0]["mismatches"] == 0  # the input quantizer is exact
    first = next((r for r in quant if r["mismatches"]), None)
    if first is not None:
        assert first["tie_distance"] < 1e-4, oracle.describe(rep)
    for r in quant:
        assert r["local_mismatches"] is not None, r["layer"]
        if r["local_mismatches"]:
            assert r["local_tie_distance"] < 1e-4, r


@pytest.mark.parametrize(
    "name,needle",
    [
        ("brevitas_mlp", r"\(Requant\) has no round-half-even multiply-shift form"),
        ("cnv_w2a2", r"\(Conv\) of 'cnv_w2a2' cannot go to the MVU chain"),
    ],
)
def test_mvu_chain_refuses_what_it_cannot_take_by_node(imported, name, needle):
    from codesign.errors import CodesignError
    from codesign.ir import chain

    imp, _ = imported[name]
    with pytest.raises(CodesignError, match=needle) as e:
        chain.lower(imp.graph)
    assert "`codesign golden` and `codesign energy` take every op" in str(e.value)


def _trunc_pool_model(path):
    """A brevitas conv net with TruncAvgPool2d: its pooled sum leaves through a QONNX Trunc."""
    import warnings

    import torch
    from brevitas import nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.quant import Int8ActPerTensorFixedPoint

    class TruncPool(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.q = qnn.QuantIdentity(
                act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True
            )
            self.c = qnn.QuantConv2d(
                1, 4, 3, padding=1, weight_bit_width=4, return_quant_tensor=True
            )
            self.r = qnn.QuantReLU(bit_width=4, return_quant_tensor=True)
            self.p = qnn.TruncAvgPool2d(
                kernel_size=2, stride=2, bit_width=4, return_quant_tensor=True
            )
            self.o = qnn.QuantIdentity(return_quant_tensor=False)

        def forward(self, x):
            return self.o(self.p(self.r(self.c(self.q(x)))))

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(TruncPool().eval(), torch.zeros(1, 1, 8, 8), str(path), dynamo=False)
    return path


@pytest.mark.parametrize(
    "mode,coarser",
    [(None, 1), ("ROUND", 1), ("CEIL", 1), (None, 4.37), ("ROUND", 1.37), ("FLOOR", 1.37)],
)
def test_trunc_avg_pool_equals_qonnx(tmp_path, mode, coarser):
    import onnx
    from onnx import helper, numpy_helper
    from sklearn.datasets import load_digits

    proto = onnx.load(str(_trunc_pool_model(tmp_path / "trunc.onnx")))
    (trunc,) = [n for n in proto.graph.node if n.op_type == "Trunc"]
    if mode is not None:  # the composite boundary must follow any truncation rounding
        for a in trunc.attribute:
            if a.name == "rounding_mode":
                a.CopyFrom(helper.make_attribute("rounding_mode", mode))
    # brevitas' input scale keeps x / s whole; a coarser one makes the inner rounding count (not a
    # power of two: x / s would sit on exact ties, which qonnx's float32 rounds either way)
    if coarser != 1:
        (s,) = [t for t in proto.graph.initializer if t.name == trunc.input[1]]
        s.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(s) * coarser, s.name))
    imp = frontend.import_model(proto, "trunc_pool")
    x = (load_digits().images[:60] / 8.0 - 1.0).astype(np.float32)[:, None]
    golden = execute.run(imp.graph, x)
    rep = oracle.compare(imp, golden, oracle.qonnx_execute(imp.model, x))
    assert rep["mismatches"] == 0, oracle.describe(rep)
    taps = {r["layer"] for r in rep["layers"] if r["kind"] == "quant"}
    assert any("Trunc" in t for t in taps)
    pooled = golden[next(n.outputs[0] for n in imp.graph.nodes if "Trunc" in n.name)]
    assert len(np.unique(pooled)) > 4  # the pooled levels spread, not one saturated value


def test_trunc_of_the_old_five_input_form_is_refused(tmp_path):
    import onnx

    from codesign.errors import CodesignError

    proto = onnx.load(str(_trunc_pool_model(tmp_path / "trunc.onnx")))
    (trunc,) = [n for n in proto.graph.node if n.op_type == "Trunc"]
    del trunc.input[4]
    with pytest.raises(CodesignError, match=f"node '{trunc.name}' \\(Trunc\\): only the six-input"):
        frontend.import_model(proto, "trunc_pool")


def test_threshold_counting_agrees_with_a_binary_search_on_odd_tables():
    """Tables with infinite ends, and one shared table under per-channel signs, at few and many
    thresholds: the fast paths of apply_thresholds equal numpy's searchsorted per channel."""
    from codesign.graph.ops.quantize import apply_thresholds, count_at_or_below

    t = np.concatenate(([-np.inf], np.arange(16.0)))
    x = np.array([0.5, 3.0, -np.inf, np.inf, 15.0, -1.0])
    assert count_at_or_below(t, x).tolist() == np.searchsorted(t, x, side="right").tolist()
    rng = np.random.default_rng(0)
    xi = rng.integers(-20, 20, (7, 2, 5))
    sign = np.array([1, -1])
    for n, channels, step in ((4, 1, 3), (12, 1, 3), (3, 2, 1), (3, 2, 2), (9, 2, 1)):
        table = np.sort(rng.integers(-15, 15, (channels, n)), axis=1)
        levels = np.arange(n + 1) * step - 7
        got = apply_thresholds(xi, sign, table, levels)
        want = np.stack(
            [
                levels[np.searchsorted(table[c % channels], s * xi[:, c], side="right")]
                for c, s in enumerate(sign)
            ],
            axis=1,
        )
        assert got.dtype == np.int64 and np.array_equal(got, want), (n, channels, step)
