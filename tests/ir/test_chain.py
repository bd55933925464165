"""The MVU chain lowered from the one graph: its per-layer arithmetic (codesign/ir/golden.py,
written differently: per-channel shifts, explicit rounding, stages as objects) must give the
graph executor's tensors on every trained digits_mlp variant, stage tensors included."""

from __future__ import annotations

import numpy as np
import pytest
from trained_variants import trained_adalog, trained_asq

from codesign.ir import chain
from codesign.ir import golden as layer_math


def _layer_by_layer(g, x) -> dict[str, np.ndarray]:
    out, ctx = {"input": x}, {"record": {}}
    for lay in g.layers:
        x = layer_math.dense(lay, x, ctx)
        out.update(ctx["record"])
        ctx["record"] = {}
        out[lay.name] = x
    return out


@pytest.mark.parametrize("variant", ["post", "asq", "adalog"])
def test_layer_arithmetic_equals_the_graph_executor(trained_digits, variant):
    root = {"post": lambda: trained_digits, "asq": trained_asq, "adalog": trained_adalog}[variant]()
    g = chain.load_int_graph(root / "onnx" / "model.onnx", "digits_mlp")
    x = np.load(root / "golden" / "layers.npz")["input"]
    ref = chain.run(g, x)
    mine = _layer_by_layer(g, x)
    assert list(mine) == list(ref)  # same tensors, in data-flow order
    for name in ref:
        assert np.array_equal(mine[name], ref[name]), name
    assert len({r.tobytes() for r in ref[g.layers[-1].name]}) > 10


def test_hand_built_chains_run_on_the_graph_executor_with_either_rounding():
    from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

    rng = np.random.default_rng(0)
    w = rng.integers(-3, 4, size=(6, 5))
    q_in, q_out = QuantSpec(8, True, 0), QuantSpec(8, True, -1)
    x = rng.integers(-128, 128, size=(400, 5))
    outs = {}
    for rounding in ("half_even", "half_up"):
        # multiplier 1, shift 1: every odd accumulator is an exact tie
        rq = Requant(np.ones(6), np.ones(6), lo=-128, hi=127, rounding=rounding)
        lay = DenseLayer(
            "fc0", w, rng.integers(-5, 5, size=6), rq, q_in, q_out, False, "uniform", 3
        )
        g = IntGraph("ties", q_in, [lay])
        ref = chain.run(g, x)["fc0"]
        assert np.array_equal(layer_math.dense(lay, x), ref), rounding
        outs[rounding] = ref
    assert (outs["half_even"] != outs["half_up"]).sum() > 100  # the ties do decide


@pytest.mark.parametrize("variant,op", [("asq", "AsqDivide"), ("asq", "Mul"), ("adalog", "Lookup")])
def test_stage_ops_are_priced_by_the_45nm_model(variant, op):
    from codesign.energy.graph45 import estimate

    root = {"asq": trained_asq, "adalog": trained_adalog}[variant]()
    g = chain.load_int_graph(root / "onnx" / "model.onnx", "digits_mlp")
    rep = estimate(g.source)
    rows = [r for r in rep["layers"] if r["op"] == op]
    assert rows and all(r["total_pJ"] > 0 for r in rows)
    assert rep["total_pJ"] == pytest.approx(sum(r["total_pJ"] for r in rep["layers"]))
