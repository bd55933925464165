"""Generated RTL folder: manifest arithmetic, memory files, lint-clean Verilog, safe rewrites."""

import json

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.rtl.generate import default_in_beat, generate, main, top_name
from codesign.rtl.hexmem import read_hex
from codesign.rtl.lint import lint, lint_model
from codesign.rtl.synthetic import synthetic_mlp
from codesign.rtl.toolenv import HW_RTL, REPO_ROOT

FOLD = {"fc0": (8, 16), "fc1": (4, 16), "fc2": (2, 8)}


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    g = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=2, name="digits-like")
    out = tmp_path_factory.mktemp("gen") / "rtl"
    return g, generate(g, FOLD, out), out


def test_manifest_numbers(gen):
    g, man, out = gen
    assert man["top"] == top_name("digits-like") == "digits_like_top"
    assert man["ideal_cycles_per_inference"] == 64 * 64 // 128 + 64 * 32 // 64 + 32 * 10 // 16
    assert man["latency_cycles"] == 1 + 32 + 2 + 32 + 2 + 20 + 2  # 64 x 8 bit in one beat
    assert man["ideal_interval_cycles"] == 32
    assert man["input"]["lanes"] == 64 and man["output"]["lanes"] == 2
    for lay, src in zip(man["layers"], g.layers, strict=True):
        assert lay["acc_width"] >= src.acc_bits == lay["acc_bits"]
        assert lay["tap"]["valid"] == f"t_{lay['name']}_valid"
    assert json.loads((out / "manifest.json").read_text()) == man


def test_memory_files_round_trip(gen):
    g, man, out = gen
    lay, src = man["layers"][1], g.layer("fc1")
    words = read_hex(out / "mem" / lay["files"]["weights"])
    pe, simd, b = lay["pe"], lay["simd"], lay["weight_store_bits"]
    sf = lay["in_features"] // simd
    assert len(words) == (lay["out_features"] // pe) * sf
    codes = np.zeros_like(src.indices)
    for a, word in enumerate(words):
        nf, s_f = divmod(a, sf)
        for p in range(pe):
            for s in range(simd):
                codes[nf * pe + p, s_f * simd + s] = (word >> ((p * simd + s) * b)) & 0xF
    assert np.array_equal(codes, src.indices)
    table = read_hex(out / "mem" / lay["files"]["table"])
    cb = [v - 1024 if v >> 9 else v for v in table]  # 10-bit two's complement
    assert cb[: len(src.codebook)] == list(src.codebook) and cb[len(src.codebook) :] == [0]


def test_generated_top_and_library_lint_clean(gen):
    _, man, out = gen
    res = lint_model(out)
    assert res["warnings"] == 0 and res["errors"] == 0, res["log"]


@pytest.mark.parametrize("name", sorted(p.name for p in HW_RTL.glob("cs_*.v")))
def test_every_library_file_lint_clean(name):
    res = lint([HW_RTL / name], name[:-2], {})
    assert res["warnings"] == 0 and res["errors"] == 0, res["log"]


@pytest.mark.parametrize(
    "params",
    [
        {"WMODE": 0, "IDX_W": 5, "W_W": 5, "IN_SIGNED": 1},
        {"WMODE": 2, "IDX_W": 4, "W_W": 6},
        {"N": 16, "SIMD": 16, "IN_BEAT": 16, "M": 8, "PE": 8},  # SF = NF = 1
        {"N": 64, "SIMD": 1, "IN_BEAT": 1, "M": 10, "PE": 1, "OUT_LO": -128, "OUT_HI": 127},
    ],
)
def test_mvu_parameter_sets_lint_clean(params):
    files = [
        HW_RTL / f for f in ("cs_requant_core.v", "cs_lut_decode.v", "cs_weight_rom.v", "cs_mvu.v")
    ]
    res = lint(files, "cs_mvu", params)
    assert res["warnings"] == 0 and res["errors"] == 0, res["log"]


def test_bad_folding_keeps_previous_output(gen, tmp_path):
    g, _, _ = gen
    out = tmp_path / "rtl"
    generate(g, FOLD, out)
    before = (out / "manifest.json").read_text()
    with pytest.raises(CodesignError, match="layer 'fc2': PE=3 does not divide its 10 output"):
        generate(g, {**FOLD, "fc2": (3, 8)}, out)
    assert (out / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtl"]  # no temporary folders left


def test_rtl_that_fails_lint_or_a_bad_beat_keeps_previous_output(gen, tmp_path, monkeypatch):
    """Lint runs on the new folder before it replaces the old one: a failure is one error naming
    the first lint message, and the good folder stays."""
    from codesign.rtl import generate as gen_mod

    g, _, _ = gen
    out = tmp_path / "rtl"
    generate(g, FOLD, out, lint=True)
    before = (out / "manifest.json").read_text()
    with pytest.raises(CodesignError, match="--in-beat must be at least 1"):
        generate(g, FOLD, out, in_beat=-4, lint=True)
    good_top = gen_mod._top_verilog
    monkeypatch.setattr(
        gen_mod,
        "_top_verilog",
        lambda *a: good_top(*a).replace("endmodule", "wire spare;\nendmodule"),
    )
    with pytest.raises(CodesignError, match=r"fails verilator lint \(1 warnings.*%Warning-UNUSED"):
        generate(g, FOLD, out, lint=True)
    assert (out / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtl"]


def test_default_in_beat():
    assert default_in_beat(64, 8) == 64
    assert default_in_beat(784, 8) == 56  # largest divisor of 784 with <= 512 bits
    assert default_in_beat(10, 1024) == 1


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["nosuchmodel", "--build-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nosuchmodel" in err[0]


def test_cli_generates_digits_mlp_and_sim_refuses_it_once_the_model_changes(
    trained_digits, tmp_path, capsys, error_line
):
    """`codesign rtl` on the session's exported digits_mlp (copied, so the shared build stays
    as it is); after a re-export `codesign sim` refuses the older RTL by name."""
    from codesign.verify.simulate import main as sim_main

    model_dir = tmp_path / "digits_mlp"
    (model_dir / "onnx").mkdir(parents=True)
    onnx_file = model_dir / "onnx" / "model.onnx"
    onnx_file.write_bytes((trained_digits / "onnx" / "model.onnx").read_bytes())
    rc = main(["digits_mlp", "--build-dir", str(tmp_path), "--flows-dir", str(REPO_ROOT / "flows")])
    assert rc == 0, capsys.readouterr().err
    man = json.loads((model_dir / "rtl/manifest.json").read_text())
    assert man["folding"]["fc0"] == {"pe": 8, "simd": 16}
    assert [la["weight_mode"] for la in man["layers"]] == ["lut"] * 3
    assert man["source"]["file"] == "onnx/model.onnx" and len(man["source"]["sha256"]) == 64
    capsys.readouterr()
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\x00")  # a re-export, as far as bytes go
    assert sim_main(["digits_mlp", "--build-dir", str(tmp_path)]) == 2
    line = error_line()
    assert "generated from another onnx/model.onnx" in line and "codesign rtl digits_mlp" in line


def test_an_unmet_target_names_every_stage_over_it(tmp_path):
    """Folded for 40 cycles but asked for 20: the error names each layer over 20 (and only
    those), and the input stream when its beats are over too; no folder is written."""
    g = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=2, name="t")
    fold = {"fc0": (2, 64), "fc1": (1, 64), "fc2": (1, 8)}  # 32, 32, 40 cycles
    with pytest.raises(CodesignError) as e:
        generate(g, fold, tmp_path / "rtl", max_interval=20)
    msg = str(e.value)
    assert "layer 'fc0' needs 32 cycles; layer 'fc1' needs 32 cycles; layer 'fc2' needs 40" in msg
    assert "input stream" not in msg and not (tmp_path / "rtl").exists()
    with pytest.raises(CodesignError, match="the input stream needs 64 beats per vector"):
        generate(g, fold, tmp_path / "rtl", in_beat=1, max_interval=40)
