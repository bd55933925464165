"""CLI verbs fail with one clear line; the fault helper flips exactly the named weight bit."""

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.rtl import synth
from codesign.rtl.generate import generate
from codesign.rtl.hexmem import read_hex
from codesign.rtl.synthetic import synthetic_mlp
from codesign.verify import simulate as sim
from codesign.verify.faults import flip_weight_bit

FOLD = {"fc0": (4, 8), "fc1": (2, 8), "fc2": (5, 4)}


@pytest.fixture(scope="module")
def rtl(tmp_path_factory):
    g = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=4)
    out = tmp_path_factory.mktemp("cli") / "rtl"
    generate(g, FOLD, out)
    return g, out


@pytest.mark.parametrize(
    "verb,argv",
    [(sim.main, ["ghost", "--samples", "3"]), (synth.main, ["ghost", "--target", "xc7"])],
)
def test_verbs_report_one_line_and_exit_2(tmp_path, capsys, verb, argv):
    assert verb([*argv, "--build-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("codesign: error:") and "ghost" in err[0]


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["ghost"], "unknown model 'ghost'"),
        (["ghost", "--clock-mhz", "50"], "--clock-mhz sets the clock of --target-fps"),
        (["ghost", "--folding", "fc0=1x2,fc0=2x2"], "layer 'fc0' is given twice"),
        (["ghost", "--folding", ","], "--folding: empty"),
        (["ghost", "--folding", ""], "--folding: empty"),
        (["ghost", "--target-fps", "1e-300"], "any folding meets it"),
        (["ghost", "--target-fps", "1e-320"], "no finite cycle budget"),
        (["ghost", "--target-fps", "1", "--clock-mhz", "1e308"], "no finite cycle budget"),
        (["ghost", "--target-fps", "1e9"], "less than one cycle"),
    ],
)
def test_rtl_options_are_checked_before_any_work(tmp_path, capsys, argv, needle):
    """Each is one line and exit 2, found before the model is even read."""
    from codesign.rtl.generate import main

    assert main([*argv, "--build-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("codesign: error:") and needle in err[0], err


def test_golden_missing_a_layer_is_named(rtl):
    g, out = rtl
    gold = {
        "input": np.zeros((2, 64), dtype=np.int64),
        "fc0": np.zeros((2, 64)),
        "fc1": np.zeros((2, 32)),
    }
    with pytest.raises(CodesignError, match="no array for layer 'fc2'"):
        sim.simulate(out, gold, samples=2)
    gold["fc2"] = np.zeros((2, 11))
    with pytest.raises(CodesignError, match="layer 'fc2': golden shape"):
        sim.simulate(out, gold, samples=2)


def test_unknown_simulator_and_target(rtl):
    g, out = rtl
    gold = {"input": np.zeros((1, 64))} | {
        la.name: np.zeros((1, la.out_features)) for la in g.layers
    }
    with pytest.raises(CodesignError, match="unknown simulator 'vcs'"):
        sim.simulate(out, gold, simulator="vcs")
    with pytest.raises(CodesignError, match="unknown synthesis target 'ecp5'"):
        synth.synthesize(out, "ecp5", out.parent / "s")


def test_flip_weight_bit_changes_only_that_code(rtl):
    g, out = rtl
    path = out / "mem" / "fc1_w.hex"
    before = read_hex(path)
    info = flip_weight_bit(out, "fc1", 9, 21, 2)
    after = read_hex(path)
    # fc1: PE 2, SIMD 8 -> SF 8; weight (9, 21): nf 4, p 1, sf 2, s 5 -> word 34, lane 13
    assert info["word"] == 4 * 8 + 2 and info["bit"] == (1 * 8 + 5) * 4 + 2
    assert [a ^ b for a, b in zip(before, after, strict=True)] == [
        (1 << info["bit"]) if k == info["word"] else 0 for k in range(len(before))
    ]
    assert info["code_before"] == g.layer("fc1").indices[9, 21]
    flip_weight_bit(out, "fc1", 9, 21, 2)
    assert read_hex(path) == before
    with pytest.raises(CodesignError, match="layer 'fc1': weight \\(32, 0\\) out of range"):
        flip_weight_bit(out, "fc1", 32, 0, 0)
