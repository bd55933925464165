"""FINN (finn-plus, no Vivado) on digits_mlp: estimates, RTL code, every RTL layer under
Verilator against the golden model, and a planted fault the RTL checker names."""

from __future__ import annotations

import json

import pytest

from codesign import paths

LAYERS = [f"{kind}_rtl_{i}" for i in range(3) for kind in ("MVAU", "Thresholding")]
SIM_LAYER = "Thresholding_rtl_2"  # the fault is planted in the smallest one (10 channels)


@pytest.fixture(scope="module")
def finn_report(trained_digits):
    from codesign.hls import finn_flow

    return finn_flow.run("digits_mlp", rtlsim=True)  # every layer, as `codesign finn` runs


def test_finn_estimates(finn_report):
    r = finn_report
    assert list(r["layers"]) == LAYERS
    for name, lay in r["layers"].items():
        assert set(lay["estimate"]) == {"LUT", "BRAM_18K", "URAM", "DSP"}
        assert lay["cycles_estimate"] > 0
        assert lay["rtl_files"], name
    # folding from flows/digits_mlp.yaml: fc0 PE 8 x SIMD 16 -> 64*64/(8*16) = 32 cycles
    assert r["layers"]["MVAU_rtl_0"]["folding"] == {"PE": 8, "SIMD": 16}
    assert r["layers"]["MVAU_rtl_0"]["cycles_estimate"] == 32
    assert r["cycles_per_inference_estimate"] == 32
    assert r["outside_partition"] == ["Mul_0 (Mul)"]  # the output scale stays on the host
    assert set(r["threshold_check"]) == {"fc0", "fc1", "fc2"}
    on_disk = json.loads((paths.reports_dir("digits_mlp") / "finn.json").read_text())
    assert on_disk["estimate_totals"] == r["estimate_totals"]


def test_every_finn_rtl_layer_equals_golden(finn_report):
    r = finn_report
    assert r["layers_simulated"] == LAYERS
    tensors = [t for i in range(3) for t in (f"fc{i}.acc", f"fc{i}")]
    for name, tensor in zip(LAYERS, tensors, strict=True):
        sim = r["layers"][name]["rtlsim"]
        assert sim["golden_tensor"] == tensor
        assert sim["samples"] == 360
        assert sim["mismatches"] == 0, (name, sim["first_mismatch"])
        assert sim["stall_probability"] > 0  # back-pressure was exercised
    assert r["mismatches"] == 0


def test_a_threshold_planted_in_finns_rtl_is_named(finn_report, tmp_path):
    """A fault on the implementation side: in a copy of FINN's generated Thresholding RTL
    folder, every threshold of channel 0 (line 0 of PE 0's $readmemh file at each search stage)
    becomes the largest value, so the RTL holds channel 0 at its lowest level. The RTL checker
    names the layer's golden tensor, channel 0, the sample and both values."""
    import shutil

    import numpy as np
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from codesign.hls import common, finn_flow

    df = ModelWrapper(finn_report["dataflow_model"])
    inst = getCustomOp(df.get_node_from_name(SIM_LAYER))
    code = tmp_path / "code"
    shutil.copytree(inst.get_nodeattr("code_gen_dir_ipgen"), code)
    inst.set_nodeattr("code_gen_dir_ipgen", str(code))
    stages = sorted(code.glob(f"{SIM_LAYER}_threshs_0_*.dat"))  # PE 0, one file per stage
    assert stages, sorted(p.name for p in code.iterdir())
    for dat in stages:
        lines = dat.read_text().split()
        lines[0] = "7" + "f" * (len(lines[0]) - 1)  # the largest signed value of that width
        dat.write_text("\n".join(lines) + "\n")

    graph = common.int_graph("digits_mlp")
    golden = common.golden_tensors("digits_mlp")
    assert len(np.unique(golden["fc2"][:, 0])) > 1  # channel 0 is not constant: the fault shows
    r = finn_flow.simulate(df, graph, golden, tmp_path / "work", only=[SIM_LAYER])[SIM_LAYER]
    assert r["mismatches"] > 0
    f = r["first_mismatch"]
    assert f["layer"] == "fc2" and f["index"] == 0 and f["golden"] != f["finn_rtl"]
    assert golden["fc2"][f["sample"]][0] == f["golden"]
