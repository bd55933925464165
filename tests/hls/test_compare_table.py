"""`codesign compare`: rows read from the reports, "not run" where a report is missing."""

from __future__ import annotations

import json

from codesign import paths
from codesign.atomic import write_json
from codesign.hls import compare


def test_compare_without_reports_says_not_run(build_root):
    model = "digits_mlp_compare_empty"
    rs = compare.rows(model)
    assert [r["backend"] for r in rs] == ["own RTL", "hls4ml", "FINN"]
    assert all(r["status"] == "not run" for r in rs)
    assert "not run" in compare.table(rs).splitlines()[1]


def test_compare_reads_every_report(build_root):
    model = "digits_mlp_compare_full"
    rd = paths.reports_dir(model)
    write_json(rd / "rtl_sim.json", {"mismatches": 0, "cycles_per_inference": 41})
    write_json(rd / "synth_xc7.json", {"LUT": 900, "FF": 700, "DSP": 12, "BRAM": 2})
    write_json(rd / "hls4ml.json", {"mismatches": 0, "io": {
        "io_parallel": {"vendor_synthesis": {"status": "skipped"}}}})  # fmt: skip
    write_json(rd / "finn.json", {
        "mismatches": 0, "layers_simulated": ["MVAU_rtl_0"], "layers": {"MVAU_rtl_0": {}},
        "cycles_per_inference_estimate": 32,
        "estimate_totals": {"LUT": 100.0, "BRAM_18K": 5.0, "DSP": 8.0, "URAM": 0.0}})  # fmt: skip
    report = compare.run(model)
    own, hls, finn = report["rows"]
    assert (own["mismatches"], own["cycles_per_inference"], own["LUT"], own["BRAM"]) == (
        0, 41, 900, 2)  # fmt: skip
    assert own["cycles_source"].startswith("simulated")
    assert hls["cycles_per_inference"] is None and "Vitis HLS" in hls["cycles_source"]
    assert (finn["cycles_per_inference"], finn["DSP"], finn["BRAM"]) == (32, 8.0, 5.0)
    assert finn["cycles_source"].startswith("estimated")
    saved = json.loads((rd / "compare.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(report["rows"]))
    png = (rd / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
