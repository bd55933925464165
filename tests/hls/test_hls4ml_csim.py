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


def test_a_weight_planted_in_the_hls4ml_model_is_named(trained_digits, tmp_path, monkeypatch):
    """A fault on the implementation side: after conversion (what g++ compiles), one weight of
    hls4ml's fc1 layer takes another of that layer's own values. The C-simulation checker names
    fc1 with the sample, the index and both values; the layers before it stay clean."""
    import shutil

    import hls4ml
    import numpy as np

    from codesign.hls import common, hls4ml_flow
    from codesign.paths import using_workspace

    shutil.copytree(trained_digits, tmp_path / "digits_mlp")
    with using_workspace(tmp_path):
        graph = common.int_graph("digits_mlp")
        golden = common.golden_tensors("digits_mlp")
    i = int(np.argmax((golden["fc0"] != 0).sum(axis=0)))  # fc1's most active input
    o = int(np.argmax((golden["fc1"] != 0).sum(axis=0)))  # and most active output
    convert = hls4ml.converters.convert_from_onnx_model

    def faulty(*args, **kwargs):
        hm = convert(*args, **kwargs)
        w = next(lay for lay in hm.get_layers() if lay.name == "Dense_fc1").weights["weight"]
        col = w.data[:, o]  # (in, out) in hls4ml's own array: the weights into output o
        col[i] = col.max() if col[i] != col.max() else col.min()  # a representable other value
        return hm

    monkeypatch.setattr(hls4ml.converters, "convert_from_onnx_model", faulty)
    with using_workspace(tmp_path):
        r = hls4ml_flow.run_io("digits_mlp", "io_parallel", graph, golden, synth=False)
    assert r["mismatches"] > 0
    assert r["layer_mismatches"]["input"] == 0 and r["layer_mismatches"]["fc0"] == 0
    f = r["first_mismatch"]
    assert f["layer"] == "fc1" and f["index"] == o and f["golden"] != f["hls4ml"]
    assert golden["fc1"][f["sample"]][f["index"]] == f["golden"]  # golden's own value, named
