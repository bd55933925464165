"""cs_lut_decode: every index reads its codebook entry (entries past the codebook read 0)."""

from __future__ import annotations

import cocotb
from cocotb.triggers import Timer
from cs_tb import config


@cocotb.test()
async def every_index(dut):
    cfg = config()
    cb, idx_w, w_w = cfg["codebook"], cfg["IDX_W"], cfg["W_W"]
    for i in range(1 << idx_w):
        dut.idx.value = i
        await Timer(1, unit="ns")
        raw = int(dut.w.value)
        got = raw - (1 << w_w) if raw >> (w_w - 1) else raw
        want = cb[i] if i < len(cb) else 0
        assert got == want, f"index {i}: rtl {got}, codebook {want}"
