"""Yosys synthesis (xc7, ice40) and nextpnr-ice40 place-and-route of a small generated model."""

import shutil

import pytest

from codesign.rtl.generate import generate
from codesign.rtl.synth import synthesize
from codesign.rtl.synthetic import synthetic_mlp

pytestmark = [
    pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed"),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    g = synthetic_mlp((16, 8, 4), quantizer="post", seed=1, name="tiny")
    generate(g, {"fc0": (2, 4), "fc1": (1, 4)}, d / "rtl")
    return d


def test_xc7_counts(tiny):
    r = synthesize(tiny / "rtl", "xc7", tiny / "xc7")
    # 2x4 + 1x4 = 12 weight multipliers + 3 requant multipliers, each at least one DSP48E1
    assert r["DSP"] >= 15 and r["LUT"] > 0 and r["FF"] > 0
    assert r["cells_total"] == sum(r["cells"].values())


@pytest.mark.skipif(shutil.which("nextpnr-ice40") is None, reason="nextpnr-ice40 not installed")
def test_ice40_hx8k_place_and_route(tiny):
    r = synthesize(tiny / "rtl", "ice40", tiny / "ice40", device="hx8k")
    assert r["DSP"] == 0 and r["LUT4"] > 0  # HX8K has no SB_MAC16: LUT multipliers
    assert r["pnr"]["fits"], r["pnr"]
    assert r["pnr"]["fmax_mhz"] > 1.0
    assert r["pnr"]["utilization"]["ICESTORM_LC"]["used"] >= r["LUT4"] // 2


def test_codebook_rom_survives_synthesis(tmp_path):
    """Yosys must keep the $readmemh codebook: a 3-level ROM read by 2-bit indices is real logic.

    Regression: a zero-fill loop before $readmemh made Yosys 0.23 synthesise an all-zero ROM
    (0 cells), so POST layers were synthesised with zero weights."""
    import re
    import subprocess

    from codesign.rtl.hexmem import write_hex
    from codesign.rtl.toolenv import HW_RTL

    write_hex(tmp_path / "cb.hex", [0xFD, 0x00, 0x03, 0x00], 8)  # -3, 0, 3, pad
    script = (
        f"read_verilog {HW_RTL / 'cs_lut_decode.v'}; "
        f'chparam -set IDX_W 2 -set W_W 8 -set CB_FILE "{tmp_path / "cb.hex"}" cs_lut_decode; '
        "synth -top cs_lut_decode -flatten; stat"
    )
    out = subprocess.run(["yosys", "-p", script], capture_output=True, text=True, check=True)
    cells = int(re.findall(r"Number of cells:\s+(\d+)", out.stdout)[-1])
    assert cells > 0, out.stdout
