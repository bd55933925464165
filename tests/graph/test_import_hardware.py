"""A user's brevitas model through `codesign import` to our RTL: where the one graph lowers to
the MVU chain (power-of-two scales, bias on the accumulator grid), `codesign rtl` and `codesign
sim` take the imported model, and Verilator matches the golden model (qonnx-checked) on every
layer; where it does not, they refuse by node."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from codesign import cli, importer, paths


def _fixed_point_mlp() -> torch.nn.Module:
    from brevitas import nn as qnn
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Int32Bias,
        Uint8ActPerTensorFixedPoint,
    )

    torch.manual_seed(0)
    lin = {"weight_quant": Int8WeightPerTensorFixedPoint, "bias_quant": Int32Bias}
    return torch.nn.Sequential(
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True),
        qnn.QuantLinear(64, 16, return_quant_tensor=True, **lin),
        qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        qnn.QuantLinear(16, 10, return_quant_tensor=True, **lin),
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint),
    )


@pytest.fixture(scope="module")
def fixed_point_import(tmp_path_factory):
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("imported_hw")
    x = (load_digits().data[:48] / 16.0).astype(np.float32)
    np.savez(root / "x.npz", x=x)
    with paths.using_workspace(root), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importer.import_brevitas(
            _fixed_point_mlp(), torch.as_tensor(x[:1]), "fx_mlp", data=str(root / "x.npz")
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
