"""A user's brevitas model through `codesign import` to our RTL: where the one graph lowers to
the MVU chain (power-of-two scales, bias on the accumulator grid), `codesign rtl` and `codesign
sim` take the imported model, and Verilator matches the golden model (qonnx-checked) on every
layer; where it does not, they refuse by node."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import torch

from codesign import cli, importer, paths


def _seeded_fixed_point_mlp() -> torch.nn.Module:
    from codesign.graph.corpus import fixed_point_mlp

    torch.manual_seed(0)
    return fixed_point_mlp()


@pytest.fixture(scope="module")
def fixed_point_import(tmp_path_factory):
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("imported_hw")
    x = (load_digits().data[:48] / 16.0).astype(np.float32)
    np.savez(root / "x.npz", x=x)
    with paths.using_workspace(root), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importer.import_brevitas(
            _seeded_fixed_point_mlp(), torch.as_tensor(x[:1]), "fx_mlp", data=str(root / "x.npz")
        )
        yield root


def test_imported_fixed_point_mlp_goes_through_rtl_and_verilator(fixed_point_import, capsys):
    root = fixed_point_import
    with paths.using_workspace(root):
        assert cli.main(["golden", "fx_mlp"]) == 0
        rep = json.loads((root / "fx_mlp" / "reports" / "golden.json").read_text())
        assert rep["mismatches"] == 0  # the golden model vs qonnx's executor, every layer
        assert rep["mvu_chain"] == {"lowers": True, "layers": ["fc0", "fc1"]}
        assert cli.main(["rtl", "fx_mlp"]) == 0
        assert cli.main(["sim", "fx_mlp", "--samples", "12"]) == 0
    sim = json.loads((root / "fx_mlp" / "reports" / "rtl_sim.json").read_text())
    assert sim["samples"] == 12 and sim["mismatches_all_layers"] == 0
    import hashlib

    digest = {  # the report names the RTL and the tensors it checked
        f: hashlib.sha256((root / "fx_mlp" / f).read_bytes()).hexdigest()
        for f in ("rtl/manifest.json", "golden/chain.npz")
    }
    assert {d["file"]: d["sha256"] for d in sim["built_from"]} == digest
    gold = np.load(root / "fx_mlp" / "golden" / "chain.npz")
    assert len({r.tobytes() for r in gold["fc1"][:12]}) == 12  # outputs that tell samples apart


def test_a_planted_chain_golden_fault_is_named_by_the_simulation(fixed_point_import, capsys):
    root = fixed_point_import
    with paths.using_workspace(root):
        assert cli.main(["golden", "fx_mlp"]) == 0
        path = root / "fx_mlp" / "golden" / "chain.npz"
        gold = dict(np.load(path))
        gold["fc0"][2, 5] += 1  # the reference moved: the simulation must name where
        np.savez(path, **gold)
        if not (root / "fx_mlp" / "rtl" / "manifest.json").is_file():
            assert cli.main(["rtl", "fx_mlp"]) == 0
        capsys.readouterr()
        assert cli.main(["sim", "fx_mlp", "--samples", "4"]) == 1
    out = capsys.readouterr().out
    assert "fc0" in out and "sample 2" in out and "index 5" in out


def test_an_imported_model_the_chain_cannot_take_is_refused_by_node(tmp_path, capsys):
    from codesign.graph import corpus

    with paths.using_workspace(tmp_path):
        importer.import_file(corpus.build("brevitas_mlp", tmp_path), "float_mlp", samples=8)
        capsys.readouterr()
        for verb in ("rtl", "sim", "synth"):
            argv = [verb, "float_mlp"] + (["--target", "xc7"] if verb == "synth" else [])
            assert cli.main(argv) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith("codesign: error: ") and "node '" in err[0]
            assert "(Requant) has no round-half-even multiply-shift form" in err[0]
        assert not (tmp_path / "float_mlp" / "rtl").exists()


def test_the_build_dir_option_finds_the_imported_model(fixed_point_import, capsys):
    """`--build-dir B` names where the imported model lives: the import settings come from B."""
    root = fixed_point_import
    assert cli.main(["rtl", "fx_mlp", "--build-dir", str(root)]) == 0
    assert (root / "fx_mlp" / "rtl" / "manifest.json").is_file()
    assert cli.main(["hls4ml", "fx_mlp", "--build-dir", str(root)]) == 2
    assert "came from `codesign import`" in capsys.readouterr().err


ICE40_SYNC = bytes.fromhex("7eaa997e")  # iCE40 configuration sync word (Lattice TN1248)


@pytest.mark.skipif(
    shutil.which("nextpnr-ice40") is None or shutil.which("icepack") is None,
    reason="nextpnr-ice40 / icepack (fpga-icestorm) not installed",
)
def test_an_imported_model_becomes_an_ice40_bitstream(
    fixed_point_import, tmp_path, capsys, monkeypatch
):
    """The user's brevitas MLP, folded to PE 1 x SIMD 2, through Yosys, nextpnr-ice40 and
    icepack to a UP5K bitstream that meets the 12 MHz clock; icestorm's own unpacker reads the
    .bin back as a UP5K configuration (an oracle we did not write)."""
    root = fixed_point_import
    with paths.using_workspace(root):
        assert cli.main(["rtl", "fx_mlp", "--folding", "fc0=1x2,fc1=1x2"]) == 0
    monkeypatch.chdir(root.parent)  # a relative build folder, as `build/` is by default
    assert cli.main(["bitstream", "fx_mlp", "--device", "up5k", "--build-dir", root.name]) == 0
    rep = json.loads((root / "fx_mlp" / "reports" / "pnr_up5k.json").read_text())
    assert rep["fits"] and rep["timing_met"] and rep["fmax_mhz"] >= rep["clock_mhz"] == 12.0
    assert (
        0 < rep["DSP"] <= 8
        and 0 < rep["LUT4"] <= 5280
        and rep["folding"]["fc0"] == {"pe": 1, "simd": 2}
    )
    binary = root / "fx_mlp" / rep["bitstream"]["file"]
    data = binary.read_bytes()
    assert ICE40_SYNC in data[:64] and len(data) == rep["bitstream"]["bytes"]
    asc = tmp_path / "back.asc"
    subprocess.run(["iceunpack", str(binary), str(asc)], check=True, capture_output=True)
    assert ".device 5k" in asc.read_text()[:2000]


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_a_design_over_the_device_is_refused_with_a_folding_to_try(tmp_path, error_line):
    """Twenty-odd multipliers for the UP5K's 8 SB_MAC16: refused before nextpnr runs, naming
    what it needs, what the device has and which layer to fold further; nothing is written."""
    from codesign.rtl.generate import generate
    from codesign.rtl.synthetic import synthetic_mlp

    g = synthetic_mlp((16, 8, 4), quantizer="uniform", seed=1, name="wide")
    generate(g, {"fc0": (4, 4), "fc1": (2, 4)}, tmp_path / "wide" / "rtl")
    assert cli.main(["bitstream", "wide", "--device", "up5k", "--build-dir", str(tmp_path)]) == 2
    line = error_line()
    assert "wide does not fit up5k: needs" in line and "DSP, up5k has 8 SB_MAC16" in line
    assert (
        "try folding fc0 PE 4 x SIMD 2 (now 4 x 4): `codesign rtl <model> --folding fc0=4x2`"
        in line
    )
    assert sorted(p.name for p in (tmp_path / "wide").iterdir()) == ["rtl"]
