"""cs_lut_decode reads every index of a POST codebook (Verilator and Icarus)."""

import pytest
from hwtest_util import CACHE, run_unit

from codesign.rtl.hexmem import write_hex
from codesign.rtl.synthetic import post_codebook


@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_every_index(simulator):
    cb = [int(v) for v in post_codebook()]  # 15 levels in 4-bit indices; index 15 reads 0
    d = CACHE / f"lut_{simulator}"
    d.mkdir(parents=True, exist_ok=True)
    write_hex(d / "cb.hex", [v & 0x3FF for v in cb] + [0], 10)
    params = {"IDX_W": 4, "W_W": 10, "CB_FILE": f'"{d / "cb.hex"}"'}
    run_unit(
        f"lut_{simulator}",
        ["cs_lut_decode.v"],
        "cs_lut_decode",
        "tb_lut_decode",
        params,
        {"codebook": cb, "IDX_W": 4, "W_W": 10},
        simulator=simulator,
    )
