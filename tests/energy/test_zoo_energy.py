"""Every zoo model gets four substrate rows in energy.json, each saying how it was obtained.

Small stand-ins of each model kind (zoo_fixtures.py) are written under the zoo models' own names
in a private build folder, and `codesign energy <model> --targets all` runs on them.
"""

import json

import pytest
from test_energy_cli import two_layer_graph, write_model
from zoo_fixtures import (
    codenet_graph,
    codenet_input,
    read_energy,
    snn_dense_graph,
    snn_hd_graph,
    spikes,
    write_codenet,
    write_snn,
)

from codesign import paths
from codesign.atomic import write_json
from codesign.energy import cli
from codesign.models import zoo as model_zoo

KIND = {"digits_mlp": "dense", "delay_snn": "snn", "hd_snn": "snn", "codenet_tiny": "codenet"}


@pytest.fixture()
def zoo_build(tmp_path, monkeypatch):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    import test_energy_cli

    g = two_layer_graph()
    monkeypatch.setattr(test_energy_cli, "MODEL", "digits_mlp")
    write_model(g)
    d, h = snn_dense_graph(), snn_hd_graph()
    write_snn("delay_snn", d, spikes(d, 8))
    write_snn("hd_snn", h, spikes(h, 6))
    c = codenet_graph()
    write_codenet("codenet_tiny", c, codenet_input(c))
    return g


def test_every_zoo_model_has_four_substrate_rows(zoo_build):
    assert set(KIND) == set(model_zoo.names())
    for model, kind in KIND.items():
        if kind == "dense":  # the fixture is an IntGraph without an ONNX export
            write_json(
                paths.reports_dir(model) / "energy.json",
                cli.compute(model, list(cli.ALL_TARGETS), graph=zoo_build),
            )
        else:
            assert cli.main([model, "--targets", "all"]) == 0
        e = read_energy(model)
        assert e["kind"] == kind
        assert list(e["targets"]) == list(cli.ALL_TARGETS), model
        for t, r in e["targets"].items():
            assert r.get("total_pJ", 0) > 0, (model, t, r.get("reason"))
            assert r["basis"] in ("simulated", "activity-count"), (model, t)
            assert r["constants"] and r["method"] and r["latency_s"] > 0
            assert sum(x["pJ"] for x in r["layers"]) == pytest.approx(r["total_pJ"])
        if kind != "dense":  # no ReRAM or SFQ simulation of these models: counts, and say so
            for t in ("reram", "sfq"):
                assert e["targets"][t]["basis"] == "activity-count"
                assert "activity count" in e["targets"][t]["method"]
        else:
            assert e["targets"]["reram"]["basis"] == "simulated"
        claims = {p["source"]: p for p in e["papers"]}
        assert {"arXiv 2402.16384", "arXiv 2307.00771"} <= set(claims), model
        assert claims["arXiv 2402.16384"]["is_closest"] == (model == "digits_mlp")
        assert claims["arXiv 2307.00771"]["is_closest"] == (model == "hd_snn")
        json.dumps(e)  # plain JSON (no numpy scalars)


def test_spiking_rows_follow_the_layers(zoo_build):
    cli.main(["delay_snn", "--targets", "reram,sfq,fpga"])
    e = read_energy("delay_snn")
    for t in ("reram", "sfq", "fpga"):
        assert [x["layer"] for x in e["targets"][t]["layers"]] == ["fc0", "fc1"], t
    assert e["targets"]["fpga"]["activity"]["toggle_rate"] == 0.125  # XPE default, cited
    assert e["targets"]["sfq"]["activity"]["switchings"] > 0


def test_missing_golden_is_unavailable_with_the_command(zoo_build):
    (paths.golden_dir("hd_snn") / "layers.npz").unlink()
    e = cli.compute("hd_snn", ["reram", "sfq"])
    for t in ("reram", "sfq"):
        assert e["targets"][t]["status"] == "unavailable"
        assert "codesign golden hd_snn" in e["targets"][t]["reason"]
