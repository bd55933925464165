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


def test_codenet_fpga_row_runs_at_the_models_own_clock(zoo_build):
    """Latency and static energy use the clock in codenet.json (codenet_tiny: 200 MHz), not the
    technology file's default; without one, the technology's clock."""
    from codesign.energy.techfile import load_all

    p_static = load_all(None)["fpga_xc7"].si("static_power")
    rep = json.loads((paths.reports_dir("codenet_tiny") / "codenet.json").read_text())
    rows = {}
    for mhz in (None, 200.0):
        if mhz:
            rep["performance"]["clock_mhz"] = mhz
            write_json(paths.reports_dir("codenet_tiny") / "codenet.json", rep)
        rows[mhz] = cli.compute("codenet_tiny", ["fpga"])["targets"]["fpga"]
    fast, default = rows[200.0], rows[None]
    assert fast["latency_s"] == pytest.approx(900 / 200e6)  # 900 simulated cycles per frame
    assert default["latency_s"] == pytest.approx(900 / 100e6)
    assert fast["breakdown"]["static_pJ"] == pytest.approx(p_static * 900 / 200e6 * 1e12)
    assert (
        fast["activity"]["clock_MHz"] == 200.0
        and "codenet.json" in fast["activity"]["clock_source"]
    )
    # toggle energy per frame does not depend on the clock
    assert fast["breakdown"]["lut_pJ"] == pytest.approx(default["breakdown"]["lut_pJ"])


def test_codenet_asic45_prices_each_layers_weight_width(zoo_build):
    """Fixture: 4x4 pixels; stem 2x2 and off1 1x2 at 8 bits, dw1 2x9 and head 3x2 at 4 bits.
    A MAC costs mult8 x (weight bits x 8 / 64) + add32. POST weights are multiplied as their
    decoded codebook level: levels up to 64 need 7 bits + sign = 8, whatever the index bits."""
    from zoo_fixtures import write_codenet as rewrite

    from codesign.energy.techfile import load_all

    h = load_all(None)["asic45"]
    m8, a32 = h.si("mult8") * 1e12, h.si("add32") * 1e12
    e = cli.compute("codenet_tiny", ["asic45"])["targets"]["asic45"]
    got = {r["layer"]: r["pJ"] for r in e["layers"]}
    want = {"stem": 64 * (m8 + a32), "off1": 32 * (m8 + a32)}
    want |= {"dw1": 288 * (m8 / 2 + a32), "head": 96 * (m8 / 2 + a32)}
    assert got == pytest.approx(want)

    g = codenet_graph(head_codebook=(-64, -45, -32, 0, 32, 45, 64))
    rewrite("codenet_tiny", g, codenet_input(g))
    e = cli.compute("codenet_tiny", ["asic45"])["targets"]["asic45"]
    got = {r["layer"]: r["pJ"] for r in e["layers"]}
    assert got["head"] == pytest.approx(96 * (m8 + a32))
    assert e["activity"]["multiplier_weight_bits"]["head"] == 8
