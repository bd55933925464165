"""`codesign import` as a user runs it: a brevitas export in, golden and energy out, the verbs
that cannot take it refused by name; malformed files give one `codesign: error:` line, exit 2,
and leave an earlier import of the same name untouched."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from codesign import paths
from codesign.cli import main
from codesign.graph import corpus


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory):
    return corpus.build("brevitas_mlp", tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="module")
def imported_mlp(build_root, mlp_file, tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "x.npz"
    np.savez(data, x=corpus.sample_inputs("brevitas_mlp", 20))
    assert main(["import", str(mlp_file), "--name", "user_mlp", "--data", str(data)]) == 0
    return paths.model_dir("user_mlp")


def _one_error_line(capsys, code: int) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("codesign: error: "), err
    return err[0]


def test_import_golden_energy(imported_mlp, capsys):
    rep = json.loads((imported_mlp / "reports" / "import.json").read_text())
    assert rep["samples"] == 20 and rep["mismatches"] == 0
    assert rep["source"] == "brevitas_mlp.onnx" and len(rep["source_sha256"]) == 64
    assert main(["golden", "user_mlp"]) == 0
    g = json.loads((imported_mlp / "reports" / "golden.json").read_text())
    assert g["mismatches"] == 0 and g["reference"].startswith("qonnx")
    assert {r["kind"] for r in g["layers"]} == {"quant", "acc", "output"}
    with np.load(imported_mlp / "golden" / "layers.npz") as z:
        assert all(z[k].dtype == np.int64 for k in z.files)
    assert main(["energy", "user_mlp"]) == 0
    e = json.loads((imported_mlp / "reports" / "energy.json").read_text())
    assert e["macs"] == 64 * 64 + 64 * 32 + 32 * 10 and 0 < e["total_pJ"] < e["fp32_baseline_pJ"]
    assert "total" in capsys.readouterr().out


@pytest.mark.parametrize("verb", ["hls4ml", "finn", "sfq", "reram", "train"])
def test_other_verbs_refuse_by_name(imported_mlp, capsys, verb):
    line = _one_error_line(capsys, main([verb, "user_mlp"]))
    assert f"codesign {verb}" in line and "user_mlp" in line
    assert "golden, energy, rtl, sim, synth" in line


@pytest.mark.parametrize("verb", ["rtl", "sim"])
def test_rtl_refuses_float_scales_by_node(imported_mlp, capsys, verb):
    """brevitas' default scales are not powers of two: no multiply-shift for our MVU chain."""
    line = _one_error_line(capsys, main([verb, "user_mlp"]))
    assert "node '" in line and "multiply-shift" in line


def _mutated(src, tmp_path, how) -> str:
    m = onnx.load(str(src))
    how(m)
    out = tmp_path / "bad.onnx"
    onnx.save(m, str(out))
    return str(out)


def _act_quant(m):
    inits = {t.name for t in m.graph.initializer}
    return next(n for n in m.graph.node if n.op_type == "Quant" and n.input[0] not in inits)


def _set_init(m, name, value):
    for k, t in enumerate(m.graph.initializer):
        if t.name == name:
            arr = np.asarray(value, dtype=numpy_helper.to_array(t).dtype)
            m.graph.initializer[k].CopyFrom(numpy_helper.from_array(arr, name))


def _bits(value):
    return lambda m: _set_init(m, _act_quant(m).input[3], value)


def _scale(value):
    return lambda m: _set_init(m, _act_quant(m).input[1], value)


def _cycle(m):
    first, last = m.graph.node[0], m.graph.node[-1]
    first.input[0] = last.output[0]  # the input quantizer now reads the model's output


def _two_inputs(m):
    m.graph.input.append(helper.make_tensor_value_info("extra", onnx.TensorProto.FLOAT, [1, 4]))


BAD = {
    "bit width 0": (_bits(0), "bit width"),
    "bit width 33": (_bits(33), "bit width"),
    "NaN scale": (_scale(np.nan), "scale"),
    "negative scale": (_scale(-0.5), "scale"),
    "cycle": (_cycle, "cycle"),
    "two inputs": (_two_inputs, "exactly one input"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_one_line_and_nothing_lost(imported_mlp, mlp_file, tmp_path, capsys, case):
    how, words = BAD[case]
    before = (imported_mlp / "onnx" / "model.onnx").read_bytes()
    bad = _mutated(mlp_file, tmp_path, how)
    line = _one_error_line(capsys, main(["import", bad, "--name", "user_mlp"]))
    assert words in line
    assert (imported_mlp / "onnx" / "model.onnx").read_bytes() == before
    assert not [p for p in imported_mlp.parent.iterdir() if p.name.startswith(".user_mlp")]


def test_truncated_and_float_files(mlp_file, tmp_path, capsys, build_root):
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(mlp_file.read_bytes()[:500])
    line = _one_error_line(capsys, main(["import", str(cut), "--name", "cut"]))
    assert "cut.onnx" in line
    assert not paths.model_dir("cut").exists()
    import qonnx

    float_model = paths.Path(qonnx.__file__).parent / "data/onnx/mnist-conv/model.onnx"
    line = _one_error_line(capsys, main(["import", str(float_model), "--name", "fl"]))
    assert "quantize it first" in line and "brevitas" in line


def test_bad_data_file(mlp_file, tmp_path, capsys, build_root):
    data = tmp_path / "x.npz"
    np.savez(data, x=np.zeros((3, 7), dtype=np.float32))
    line = _one_error_line(
        capsys, main(["import", str(mlp_file), "--name", "d", "--data", str(data)])
    )
    assert "shape (3, 7)" in line and "(N, 64)" in line
