"""The ReRAM and SFQ simulators on a model exported the way a user exports it (digits_mlp:
trained, QONNX, imported, golden run), not on a graph a test wrote: in their ideal settings
both equal the golden model on every output."""

from __future__ import annotations

import json

import numpy as np

from codesign.sim.reram.cli import main as reram_main
from codesign.sim.sfq.cli import main as sfq_main


def test_reram_ideal_crossbar_equals_golden_on_the_exported_model(trained_digits, build_root):
    rc = reram_main(
        ["digits_mlp", "--build", str(build_root), "--sweep", "none", "--calib", "32",
         "--no-plots"]
    )  # fmt: skip
    assert rc == 0
    rep = json.loads((trained_digits / "reports" / "reram.json").read_text())
    assert rep["ideal"]["exact"] is True
    assert rep["ideal"]["accuracy"] == rep["golden_accuracy"]
    assert rep["default"]["energy"]["macs_per_inference"] == 64 * 64 + 64 * 32 + 32 * 10


def test_sfq_network_equals_golden_on_the_exported_model(trained_digits, build_root):
    rc = sfq_main(["digits_mlp", "--build", str(build_root), "--samples", "4"])
    assert rc == 0
    rep = json.loads((trained_digits / "reports" / "sfq.json").read_text())
    assert rep["samples_simulated"] == 4 and rep["reduction"]["act_bits"] is None  # as exported
    assert rep["equal_to_golden"] is True and rep["mismatches"] == 0
    assert rep["netlist"]["jj_count"] > 0 and rep["per_inference"]["events"] > 0


def test_a_wrong_sfq_synapse_is_named_by_layer_index_and_both_values(trained_digits, build_root):
    """Planted fault on the implementation side: one synapse of the exported model's netlist
    gets too much bias current (one neuron threshold more). The SFQ-vs-golden checker must name
    that layer and output neuron and give both values; the golden value is the one in
    golden/layers.npz."""
    from codesign import golden_io
    from codesign.sim.sfq.cli import load_model
    from codesign.sim.sfq.mapping import map_graph
    from codesign.sim.sfq.report import run_nominal

    graph, x, _ = load_model("digits_mlp", build_root)
    model = map_graph(graph)
    gold = golden_io.load_model("digits_mlp")
    last, prev = graph.layers[-1], graph.layers[-2]
    i = int(np.flatnonzero(gold[prev.name][0])[0])  # an input of sample 0 that carries pulses
    syn = next(
        c
        for c in model.netlist.cells
        if c.type == "SYN" and c.name.startswith(f"{last.name}.s") and c.name.endswith(f".{i}")
    )
    o = int(syn.name.split(".")[1][1:])  # <layer>.s<out>.<in>
    # one output step of the neuron per input pulse: the neuron's sum moves by >= 1 unit
    syn.params["weight"] += model.netlist.cell(f"{last.name}.n{o}").params["threshold"]
    rep = run_nominal(model, x[:1])
    first = rep["first_mismatch"]
    assert rep["equal_to_golden"] is False
    assert (first["layer"], first["index"]) == (last.name, o)
    assert first["golden"] == int(gold[last.name][0, o]) and first["sfq"] != first["golden"]


def test_a_stuck_reram_cell_is_named_by_layer_index_and_both_values(trained_digits, build_root):
    """Planted fault on the implementation side: one device of the last layer's crossbar is
    stuck at the other extreme conductance (a stuck-on/off cell). The ReRAM-vs-golden checker
    must name that layer, the sample and output neuron, and give both values."""
    from codesign import golden_io
    from codesign.sim.reram.config import CrossbarConfig
    from codesign.sim.reram.mapping import compare, map_graph
    from codesign.sim.reram.model_io import load_exported
    from codesign.sim.reram.tile import Tile

    graph = load_exported("digits_mlp", build_root)[0]
    gold = golden_io.load_model("digits_mlp")
    cfg = CrossbarConfig.ideal(seed=0)
    mapped = map_graph(graph, cfg)
    ml = mapped.layers[-1]
    last, prev = graph.layers[-1], graph.layers[-2]
    i = int(np.flatnonzero(gold[prev.name][0])[0])  # an input of sample 0 that is not zero
    o = 3
    col = (ml.wenc.n - 1) * last.out_features + o  # the most significant digit of weight (i, o)
    assert len(ml.row_edges) == 2 and len(ml.col_edges) == 2  # one tile holds the layer
    digits = ml.logical_digits()
    lmax = cfg.levels - 1
    digits[i, col] = -lmax if digits[i, col] > 0 else lmax  # stuck at the far conductance
    ml.tiles[0][0] = Tile(digits, cfg, np.random.default_rng(0))
    x = gold["input"][:1]
    ref = {k: gold[k][:1] for k in ("input", *(lay.name for lay in graph.layers))}
    rows = {r["layer"]: r for r in compare(ref, mapped.run(x))}
    assert all(rows[lay.name]["mismatches"] == 0 for lay in graph.layers[:-1])
    first = rows[last.name]["first"]
    assert first["index"] == [0, o]
    assert first["golden"] == int(gold[last.name][0, o]) and first["reram"] != first["golden"]
