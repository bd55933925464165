"""Mapped IntGraphs equal the integer golden model layer by layer; XOR; reductions; CLI."""

import json

import numpy as np
import pytest

from codesign.ir import chain
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant
from codesign.sim.sfq import cli
from codesign.sim.sfq.engine import Compiled
from codesign.sim.sfq.mapping import (
    compare,
    map_graph,
    reduce_graph,
    reduce_input,
    xor_graph,
    xor_inputs,
)


def rand_graph(seed, sizes=(10, 6, 4), in_bits=8, in_signed=False, rounding="half_even", wmax=7):
    """Random integer MLP with realistic requant (multiplier < 2**16, shift 10..24)."""
    rng = np.random.default_rng(seed)
    q_in = QuantSpec(in_bits, in_signed, -in_bits)
    layers = []
    for li, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        last = li == len(sizes) - 2
        w = rng.integers(-wmax, wmax + 1, size=(b, a))
        w[rng.random(w.shape) < 0.2] = 0
        shift = rng.integers(10, 25, size=b)
        # scale the multiplier so outputs land mid-range instead of saturating
        acc_scale = max(1, wmax * a * (2 ** (in_bits - 1)) // 4)
        mult = np.clip((2.0**shift * 100 / acc_scale).astype(np.int64), 1, 2**16 - 1)
        bias = rng.integers(-acc_scale // 4, acc_scale // 4 + 1, size=b)
        out_q = QuantSpec(8, last, -4)
        rq = Requant(mult, shift, -128 if last else 0, 127 if last else 255, rounding)
        layers.append(DenseLayer(f"fc{li}", w, bias, rq, q_in, out_q, not last, "uniform", 4))
        q_in = out_q
    return IntGraph(f"rand{seed}", layers[0].in_q, layers)


def run_equal(graph, x):
    model = map_graph(graph)
    gold = chain.run(graph, x)
    res = []
    cmp = compare(model, Compiled(model.netlist), x, gold, results=res)
    assert sum(len(r.violations) for r in res) == 0
    return cmp, gold


@pytest.mark.parametrize("seed,rounding", [(0, "half_even"), (1, "half_up"), (2, "half_even")])
def test_random_mlp_equals_golden(seed, rounding):
    g = rand_graph(seed, rounding=rounding, in_bits=5)
    x = np.random.default_rng(100 + seed).integers(0, 32, size=(6, 10))
    cmp, gold = run_equal(g, x)
    assert cmp.equal, cmp.first
    # not a trivial pass: hidden layer has non-zero, non-saturated values
    h = gold["fc0"]
    assert (h > 0).any() and (h < 255).any() and len(np.unique(gold["fc1"])) > 3


def test_signed_inputs_and_8bit_activations():
    g = rand_graph(5, sizes=(6, 5, 3), in_bits=8, in_signed=True)
    x = np.random.default_rng(7).integers(-128, 128, size=(3, 6))
    cmp, _ = run_equal(g, x)
    assert cmp.equal, cmp.first


def test_planted_fault_is_named():
    g = rand_graph(3, in_bits=4)
    x = np.random.default_rng(1).integers(0, 16, size=(4, 10))
    gold = chain.run(g, x)
    model = map_graph(g)
    syn = next(c for c in model.netlist.cells if c.type == "SYN" and c.name.startswith("fc0.s2"))
    syn.params["weight"] += 2**20  # a wrong synapse bias current
    cmp = compare(model, Compiled(model.netlist), x, gold)
    assert not cmp.equal
    assert cmp.first["layer"] == "fc0" and cmp.first["index"] == 2


def test_xor_network_outputs():
    g = xor_graph(15)
    x, want = xor_inputs(15)
    gold = chain.run(g, x)
    assert gold["out"][:, 0].tolist() == [0, 15, 15, 0]
    model = map_graph(g, unit=8)
    cmp = compare(model, Compiled(model.netlist), x, gold)
    assert cmp.equal
    assert ((cmp.sfq_out[:, 0] * 2 >= 15).astype(int) == want).all()


def test_reduced_graph_is_a_faithful_coarse_version():
    g = rand_graph(4, sizes=(12, 8, 5), in_bits=8)
    x = np.random.default_rng(3).integers(0, 256, size=(40, 12))
    r = reduce_graph(g, 3)
    assert r.input_q.bits == 3 and r.layers[0].out_q.bits == 3 and r.layers[-1].out_q.bits == 8
    xr = reduce_input(g, x, 3)
    assert xr.max() <= 7
    full = chain.run(g, x)["fc1"]
    red = chain.run(r, xr)["fc1"]
    # coarse but related: outputs correlate strongly with the full-precision ones
    assert np.corrcoef(full.ravel(), red.ravel())[0, 1] > 0.8
    cmp, _ = run_equal(r, xr[:8])
    assert cmp.equal


def test_cli_xor_writes_report(tmp_path):
    rc = cli.main(["xor", "--build", str(tmp_path)])
    assert rc == 0
    d = json.loads((tmp_path / "xor" / "reports" / "sfq.json").read_text())
    assert d["equal_to_golden"] and d["xor"]["correct"] and d["mismatches"] == 0
    assert d["netlist"]["jj_count"] == sum(d["netlist"]["jjs_by_type"].values())
    pi = d["per_inference"]
    assert pi["total_J"] == pytest.approx(pi["dynamic_J"] + pi["static_J"])
    assert d["timing"]["max_pulse_rate_GHz"] == pytest.approx(100.0)
    assert (tmp_path / "xor" / "sfq" / "netlist.json").exists()


def test_cli_missing_model_is_a_clear_error(tmp_path, capsys):
    rc = cli.main(["digits_mlp", "--build", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "digits_mlp" in err and "not exported" in err and err.count("\n") == 1


def test_cli_xor_margins(tmp_path):
    rc = cli.main(["xor", "--margins", "--build", str(tmp_path)])
    assert rc == 0
    d = json.loads((tmp_path / "xor" / "reports" / "sfq.json").read_text())
    m = d["margins"]["curves"]["xor"]["margin"]
    assert m["minus_pct"] >= 20 and m["plus_pct"] >= 20
    assert (tmp_path / "xor" / "reports" / "sfq_margins.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "opts,needle",
    [
        (["--period-ps", "nan"], "--period-ps must be a positive number"),
        (["--period-ps", "0"], "--period-ps must be a positive number"),
        (["--samples", "-1"], "argument --samples: -1 is not >= 0"),
    ],
)
def test_cli_refuses_bad_numbers(tmp_path, error_line, opts, needle):
    from codesign.sim.sfq.cli import main

    try:
        rc = main(["xor", "--build", str(tmp_path), *opts])
    except SystemExit as e:  # argparse's range check (errors.at_least) exits by itself
        rc = e.code
    assert rc == 2
    assert needle in error_line()
