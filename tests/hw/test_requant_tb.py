"""cs_requant and cs_requant_codenet under Verilator (and Icarus) against their Python rules."""

import pytest
from hwtest_util import run_unit

REQUANT_FILES = ["cs_requant_core.v", "cs_requant.v"]


@pytest.mark.parametrize(
    "rounding,lo,hi,out_w",
    [("half_even", 0, 255, 8), ("half_up", -128, 127, 8)],
)
def test_requant_random_corners_ties(rounding, lo, hi, out_w):
    params = {
        "ACC_W": 24,
        "MULT_W": 16,
        "SHIFT_W": 5,
        "MAX_SHIFT": 31,
        "OUT_W": out_w,
        "LO": lo,
        "HI": hi,
        "ROUNDING": 0 if rounding == "half_even" else 1,
    }
    cfg = dict(params, rounding=rounding, random=3000)
    run_unit(f"requant_{rounding}", REQUANT_FILES, "cs_requant", "tb_requant", params, cfg)


def test_stream_benches_run_under_icarus():
    """The shared stream driver (hw/tb/cs_tb.py) works under Icarus too: the corner and tie
    vectors of both requantisers, fewer random ones."""
    params = {
        "ACC_W": 24,
        "MULT_W": 16,
        "SHIFT_W": 5,
        "MAX_SHIFT": 31,
        "OUT_W": 8,
        "LO": -128,
        "HI": 127,
        "ROUNDING": 0,
    }
    cfg = dict(params, rounding="half_even", random=200)
    run_unit("requant_icarus", REQUANT_FILES, "cs_requant", "tb_requant", params, cfg, "icarus")
    run_unit(
        "requant_codenet_icarus",
        ["cs_requant_codenet.v"],
        "cs_requant_codenet",
        "tb_requant_codenet",
        {"ACC_W": 24},
        {"ACC_W": 24, "random": 200},
        "icarus",
    )


def test_codenet_published_vectors_and_random():
    params = {"ACC_W": 24}
    run_unit(
        "requant_codenet",
        ["cs_requant_codenet.v"],
        "cs_requant_codenet",
        "tb_requant_codenet",
        params,
        {"ACC_W": 24, "random": 3000},
    )
