"""End to end: golden tensors + simulator reports -> `energy --targets` rows; the real verb."""

import json

import numpy as np
import pytest
from test_energy_targets import reram_report, sfq_report

from codesign import paths
from codesign.energy import cli, targets
from codesign.energy.techfile import load_all
from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.ir.chain import load_int_graph
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

MODEL = "tiny_mlp"


def two_layer_graph() -> IntGraph:
    """A 6-4-3 integer MLP (random but fixed weights), small enough to run instantly."""
    rng = np.random.default_rng(0)
    u8 = QuantSpec(8, False, -4)
    layers = []
    for name, (o, i) in (("fc0", (4, 6)), ("fc1", (3, 4))):
        layers.append(
            DenseLayer(
                name,
                rng.integers(-7, 8, (o, i)),
                rng.integers(-50, 50, o),
                Requant(np.full(o, 5), np.full(o, 6), 0, 255),
                u8,
                u8,
                True,
                "uniform",
                4,
            )
        )
    return IntGraph(MODEL, u8, layers)


def write_model(graph: IntGraph) -> None:
    """Golden tensors and simulator reports shaped like the real ones (fixtures)."""
    x = np.random.default_rng(1).integers(0, 256, (20, 6))
    t = chain.run(graph, x)
    paths.golden_dir(MODEL).mkdir(parents=True, exist_ok=True)
    np.savez(paths.golden_dir(MODEL) / "layers.npz", **t)
    rep = paths.reports_dir(MODEL)
    rep.mkdir(parents=True, exist_ok=True)
    fold = {lay.name: {"pe": 2, "simd": 2} for lay in graph.layers}
    (rep / "golden.json").write_text(
        json.dumps({"samples": 20, "mismatches": 0, "accuracy_golden": 0.5})
    )
    (rep / "rtl_sim.json").write_text(
        json.dumps(
            {
                "simulator": "verilator",
                "samples": 4,
                "mismatches": 0,
                "cycles_per_inference": 12.0,
                "interval_cycles_per_inference": 6.0,
                "ideal_cycles_per_inference": 9,
                "folding": fold,
            }
        )
    )
    (rep / "synth_xc7.json").write_text(
        json.dumps({"LUT": 400, "FF": 300, "DSP": 8, "CARRY4": 40, "BRAM": 0.0})
    )
    r = reram_report(graph)
    r.update(n_test=20, ideal={"accuracy": 0.5, "layers": [{"mismatches": 0}]})
    (rep / "reram.json").write_text(json.dumps(r))
    (rep / "sfq.json").write_text(json.dumps({**sfq_report(), "mismatches": 0}))


@pytest.fixture()
def tiny(build_root):
    g = two_layer_graph()
    write_model(g)
    return g


def test_energy_without_targets_keeps_the_45nm_keys(tiny):
    e = cli.compute(MODEL, [], graph=tiny)
    for k in ("total_pJ", "layers", "fp32_baseline_pJ", "macs", "weight_memory_bits"):
        assert k in e
    assert "targets" not in e and e["macs"] == 4 * 6 + 3 * 4


def test_energy_four_targets(tiny, capsys):
    e = cli.compute(MODEL, ["fpga", "asic45", "reram", "sfq"], graph=tiny)
    assert list(e["targets"]) == ["fpga", "asic45", "reram", "sfq"]
    for t, r in e["targets"].items():
        assert r["total_pJ"] > 0, t
        assert sum(x["pJ"] for x in r["layers"]) == pytest.approx(r["total_pJ"])
        assert {x["layer"] for x in r["layers"]} == {"fc0", "fc1"}
        assert r["constants"] and r["method"]
    assert e["targets"]["asic45"]["total_pJ"] == pytest.approx(e["total_pJ"])
    assert len(e["activity"]) == 2 and 0 < e["activity"][0]["in_toggle_rate"] < 1
    assert {p["source"] for p in e["papers"]} >= {"arXiv 2402.16384", "arXiv 2307.00771"}
    assert "sfq" in cli.targets_table(e)


def test_missing_report_is_unavailable_with_the_command(tiny):
    (paths.reports_dir(MODEL) / "sfq.json").unlink()
    e = cli.compute(MODEL, ["sfq", "asic45"], graph=tiny)
    assert e["targets"]["sfq"]["status"] == "unavailable"
    assert f"codesign sfq {MODEL}" in e["targets"]["sfq"]["reason"]
    assert e["targets"]["asic45"]["total_pJ"] > 0


@pytest.mark.slow
def test_cli_main_on_an_exported_model(trained_digits, capsys):
    """The verb itself on the real flow's export (slow fixture shared with tests/ir)."""
    assert cli.main(["digits_mlp"]) == 0
    assert "float32 baseline" in capsys.readouterr().out
    e = json.loads((paths.reports_dir("digits_mlp") / "energy.json").read_text())
    assert e["total_pJ"] > 0 and "targets" not in e


def test_unknown_target_is_an_error():
    with pytest.raises(CodesignError, match="unknown target 'gpu'"):
        cli.parse_targets("fpga,gpu")
    assert cli.parse_targets("all") == ["fpga", "asic45", "reram", "sfq"]


def test_repricing_reproduces_the_simulators_on_the_real_reports(trained_digits, build_root):
    """`codesign reram` and `codesign sfq` on the exported digits_mlp write their reports; the
    energy targets re-priced from those reports equal the simulators' own energies."""
    from codesign.sim.reram.cli import main as reram_main
    from codesign.sim.sfq.cli import main as sfq_main

    build = ["--build", str(build_root)]
    assert reram_main(["digits_mlp", *build, "--sweep", "none", "--calib", "32", "--no-plots"]) == 0
    assert sfq_main(["digits_mlp", *build, "--samples", "4"]) == 0
    reports = trained_digits / "reports"
    g = load_int_graph(trained_digits / "onnx" / "model.onnx", "digits_mlp")
    techs = load_all()
    rr = json.loads((reports / "reram.json").read_text())
    row = targets.reram(g, techs["reram"], rr)
    assert row["total_pJ"] == pytest.approx(
        rr["default"]["energy"]["per_inference"]["total_j"] * 1e12
    )
    sq = json.loads((reports / "sfq.json").read_text())
    row = targets.sfq(g, techs["sfq"], sq)
    assert row["breakdown"]["dynamic_pJ"] == pytest.approx(sq["per_inference"]["dynamic_J"] * 1e12)
