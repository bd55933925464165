import subprocess
import sys

import pytest


def test_help_and_models_list():
    out = subprocess.run(
        [sys.executable, "-m", "codesign.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for verb in ("train", "export", "golden", "energy", "models"):
        assert verb in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "codesign.cli", "models"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert any(line.startswith("digits_mlp ") for line in out.stdout.splitlines())


def test_make_help_lists_targets():
    out = subprocess.run(["make", "help"], capture_output=True, text=True)
    assert out.returncode == 0
    for target in ("setup", "demo", "test", "train", "export", "golden", "energy"):
        assert f"make {target}" in out.stdout


def test_every_verb_fails_through_the_one_error_path(tmp_path, monkeypatch, error_line):
    from codesign import cli

    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    for argv in (
        ["rtl", "no_such_model", "--build-dir", str(tmp_path)],
        ["sim", "no_such_model", "--build-dir", str(tmp_path)],
        ["synth", "no_such_model", "--target", "xc7", "--build-dir", str(tmp_path)],
        ["reram", "no_such_model", "--build", str(tmp_path)],
        ["sfq", "no_such_model", "--build", str(tmp_path)],
    ):
        assert cli.main(argv) == 2, argv
        assert "no_such_model" in error_line(), argv


@pytest.mark.parametrize(
    "argv, named",
    [
        (["golden"], "golden: the following arguments are required: model"),
        (["rtl"], "rtl: the following arguments are required: model"),
        (["energy", "digits_mlp", "--targets"], "argument --targets: expected one argument"),
        (["sfq", "xor", "--period-ps", "abc"], "invalid float value: 'abc'"),
        (["nosuchverb"], "invalid choice: 'nosuchverb'"),
        # every number on the command line is range-checked before any work starts
        (["sim", "digits_mlp", "--samples", "0"], "argument --samples: 0 is not >= 1"),
        (["sim", "digits_mlp", "--seed", "-5"], "argument --seed: -5 is not >= 0"),
        (["reram", "digits_mlp", "--seed", "-1"], "argument --seed: -1 is not >= 0"),
        (["reram", "digits_mlp", "--calib", "-5"], "argument --calib: -5 is not >= 0"),
        (["finn", "digits_mlp", "--samples", "-2"], "argument --samples: -2 is not >= 1"),
        (["sweep", "digits_mlp", "--workers", "0"], "argument --workers: 0 is not >= 1"),
        (["rtl", "digits_mlp", "--in-beat", "x"], "argument --in-beat: 'x' is not an integer"),
        (["energy", "digits_mlp", "--rtl-trace", "0"], "argument --rtl-trace: 0 is not >= 1"),
        (["sfq", "xor", "--margin-samples", "0"], "argument --margin-samples: 0 is not >= 1"),
        (["delta", "--pe", "0"], "argument --pe: 0 is not >= 1"),
        (["asq", "digits_mlp", "--lanes", "0"], "argument --lanes: 0 is not >= 1"),
        (["import", "m.onnx", "--name", "m", "--input-bits", "33"], "33 is not in 1..32"),
        (["import", "m.onnx", "--name", "m", "--input-scale", "nan"], "nan is not a finite"),
        (["snn", "train", "delay_snn", "--steps", "-3"], "argument --steps: -3 is not >= 1"),
    ],
)
def test_usage_errors_are_one_line(argv, named, error_line):
    from codesign import cli

    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert named in error_line()


def test_a_model_flow_gets_its_options_or_refuses_them(monkeypatch, capsys, error_line):
    """`codesign sim <snn> --samples 0` reached the simulator as no option at all."""
    from codesign import cli

    seen = {}

    def sim(model, samples=None):
        seen.update(model=model, samples=samples)
        return {"ok": True}

    def synth(model):
        return {"ok": True}

    flows = {"sim": sim, "synth": synth}
    monkeypatch.setattr(cli, "_model_flow", lambda verb, rest: flows.get(verb))
    assert cli.main(["sim", "snn_x", "--samples", "0"]) == 0
    assert seen == {"model": "snn_x", "samples": 0}
    assert cli.main(["sim", "snn_x", "--samples=7"]) == 0 and seen["samples"] == 7
    capsys.readouterr()
    assert cli.main(["sim", "snn_x", "--sample", "3"]) == 2
    assert "takes [--samples SAMPLES]; got '--sample'" in error_line()
    assert cli.main(["sim", "snn_x", "--samples", "many"]) == 2
    assert "'many'" in error_line()
    assert cli.main(["synth", "snn_x", "--samples", "3"]) == 2
    assert "takes no options; got '--samples'" in error_line()


def test_an_os_error_is_one_line_naming_the_file(tmp_path, monkeypatch, error_line):
    """A build folder that cannot be written (here: a file where the folder should be) is the
    one error path, not a traceback."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from codesign import cli

    w = np.random.default_rng(0).normal(size=(4, 3))
    consts = {"s": 0.1, "z": 0.0, "b": 4.0, "sw": 0.25, "so": 0.5, "W": w}
    inits = [numpy_helper.from_array(np.array(v, dtype=np.float32), n) for n, v in consts.items()]

    def quant(x: str, scale: str, y: str):
        ins = [x, scale, "z", "b"]
        return helper.make_node(
            "Quant", ins, [y], domain=qdom, signed=1, narrow=0, rounding_mode="ROUND"
        )

    qdom = "qonnx.custom_op.general"
    nodes = [
        quant("x", "s", "xq"),
        quant("W", "sw", "wq"),
        helper.make_node("MatMul", ["xq", "wq"], ["acc"]),
        quant("acc", "so", "y"),
    ]
    g = helper.make_graph(
        nodes,
        "q",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        inits,
    )
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)]
    model = tmp_path / "q.onnx"
    onnx.save(helper.make_model(g, opset_imports=opsets), str(model))
    blocked = tmp_path / "build"
    blocked.write_text("a file where the build folder should be")
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(blocked))
    assert cli.main(["import", str(model), "--name", "q4", "--samples", "3"]) == 2
    line = error_line()
    assert line.endswith(str(blocked)) and "File exists" in line
    assert blocked.read_text().startswith("a file")
