"""hw/rtl/delta_*.v: lint, RTL == golden under Verilator on a trained model (with and without
threshold, in-order and under stalls), cycles that scale with events, a planted weight fault."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.delta import golden, rtl
from codesign.delta.graph import delta_net
from codesign.errors import CodesignError
from codesign.rtl.lint import lint
from codesign.rtl.toolenv import HW_RTL

# Persistent (git-ignored) so a re-run reuses the Verilator build; the runner's stamp catches
# any change of sources or parameters, and the tables are read at run time.
SAMPLES = 24


@pytest.mark.parametrize(
    "top,params",
    [
        ("delta_encoder", {}),
        ("delta_encoder", {"N": 20, "A_W": 4}),
        ("delta_accum", {}),
        ("delta_accum", {"IN": 7, "IDX_W": 3, "OUT": 12, "PE": 4, "LO": -128, "HI": 127}),
        ("delta_accum", {"OUT": 10, "PE": 10}),
        ("delta_layer", {}),
    ],
)
def test_lint_clean(top, params):
    files = [HW_RTL / f for f in rtl.SOURCES]
    r = lint(files, top, params)
    assert r["warnings"] == 0 and r["errors"] == 0, r["log"]


def test_hw_params_reject_bad_folding(quick_models):
    models, _ = quick_models
    with pytest.raises(CodesignError, match="PE=5"):
        rtl.hw_params(delta_net(models[8].to_graph(4)), 5)


@pytest.mark.slow
def test_rtl_equals_golden_cycles_scale_and_fault_named(quick_models, tmp_path):
    models, sets = quick_models
    x = sets["test"][0][:SAMPLES]
    p8 = models[8].to_graph(x.shape[1])
    tables = tmp_path / "rtl"
    man = rtl.write_tables(p8, 4, tables)
    ng = man["params"]["OUT"] // man["params"]["PE"]
    reports = {}
    # same tables, θ = 8 and θ = 0 (θ is a port): one build covers both variants
    for theta in (8, 0):
        p = models[8].to_graph(x.shape[1], theta=theta)
        g = golden.run(p, x)
        rep = rtl.simulate(p, g["front"], g, tables, tmp_path / "sim")
        assert rep["mismatches"] == 0, rtl.describe(rep["first_mismatch"], rep["mismatches"])
        assert set(rep["phases"]) == {"paced", "stream"}
        reports[theta] = (rep, g)
    c8, c0 = reports[8][0]["cycles"], reports[0][0]["cycles"]
    # cycles follow the events: a straight line of about OUT/PE cycles per event
    assert c8["events_per_frame"] < c0["events_per_frame"]
    assert c8["cycles_per_frame"] < c0["cycles_per_frame"]
    for c in (c8, c0):
        assert c["fit_correlation"] > 0.9
        assert ng / 2 <= c["fit_cycles_per_event"] <= ng + 1
    # every frame costs at least OUT/PE cycles per event (no event is skipped or merged)
    ev = (reports[0][1]["delta"] != 0).sum(axis=2).ravel()
    assert c0["cycles_per_frame_max"] >= ng * ev.max()

    # planted fault: one weight bit of W1[o][i]; the checker names layer, sample, step, index
    g8 = reports[8][1]
    o, i = 6, int(np.argmax((g8["delta"] != 0).sum(axis=(0, 1))))
    rtl.flip_weight_bit(tables, o, i, bit=2)
    rep = rtl.simulate(p8, g8["front"], g8, tables, tmp_path / "sim", phases=("stream",))
    f = rep["first_mismatch"]
    s0, t0 = np.argwhere(g8["delta"][:, :, i] != 0)[0]
    assert rep["mismatches"] > 0
    assert (f["layer"], f["sample"], f["step"], f["index"]) == ("consumer.acc", s0, t0, o)
    assert rep["phases"]["stream"]["layers"]["delta"] == 0
    text = rtl.describe(f, rep["mismatches"])
    assert f"layer consumer.acc sample {s0} step {t0} index {o}" in text
