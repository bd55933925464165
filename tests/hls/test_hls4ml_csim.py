"""hls4ml C-simulation of digits_mlp (g++), every layer equal to the golden model."""

from __future__ import annotations

import json

import pytest

from codesign import paths
from codesign.errors import CodesignError


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_hls4ml_csim_bit_exact(trained_digits, io_type):
    from codesign.hls import hls4ml_flow

    report = hls4ml_flow.run("digits_mlp", [io_type], synth=True)
    r = report["io"][io_type]
    assert r["samples"] == 360
    assert r["mismatches"] == 0, r["first_mismatch"]
    assert set(r["layer_mismatches"]) == {"input", "fc0", "fc1", "fc2"}
    assert r["compile_seconds"] > 0
    project = paths.model_dir("digits_mlp") / "hls4ml" / io_type
    assert (project / "firmware" / "myproject.cpp").is_file()
    assert (project / "build_prj.tcl").is_file()
    v = r["vendor_synthesis"]
    if v["status"] == "skipped":  # no vendor tool here: a named skip with the exact command
        assert "vitis-run" in v["reason"] and v["command"].endswith("--mode hls")
    on_disk = json.loads((paths.reports_dir("digits_mlp") / "hls4ml.json").read_text())
    assert on_disk["io"][io_type]["mismatches"] == 0


def test_hls4ml_narrowed_type_is_named(trained_digits):
    """A precision narrower than the derived one (a planted fault) stops the flow, naming the
    hls4ml layer and both types, before anything is compiled."""
    import hls4ml

    from codesign.hls import common, hls4ml_flow

    graph = common.int_graph("digits_mlp")
    mw = hls4ml_flow.hls4ml_qonnx("digits_mlp", graph)
    cfg = hls4ml_flow.hls_config(mw, graph)
    cfg["LayerName"]["fc1_scale"]["Precision"]["scale"] = "fixed<12,-6>"
    hm = hls4ml.converters.convert_from_onnx_model(
        mw, hls_config=cfg, io_type="io_parallel", backend="Vitis",
        output_dir=str(paths.model_dir("digits_mlp") / "hls4ml_fault"),
    )  # fmt: skip
    with pytest.raises(CodesignError, match="bn_fc1_scale.*scale_t is fixed<12,-6>"):
        hls4ml_flow.check_types(hm, graph)
