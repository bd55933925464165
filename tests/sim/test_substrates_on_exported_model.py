"""The ReRAM and SFQ simulators on a model exported the way a user exports it (digits_mlp:
trained, QONNX, imported, golden run), not on a graph a test wrote: in their ideal settings
both equal the golden model on every output."""

from __future__ import annotations

import json

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
