"""cocotb bench for one FINN RTL layer: stream words in on in0_V, collect words from out0_V.

Reads CODESIGN_TB_CONFIG (JSON: `inputs` packed words as hex strings, `n_out` words expected,
`out_file`, `seed`, `stall` probability). Input valid and output ready are randomly deasserted
(seeded) so FINN's AXI-stream handshakes are exercised under back-pressure. The bench records
every output word and the clock cycle it appeared; the Python side unpacks them and compares
with the golden model layer by layer (codesign.ir.compare), so this file only drives and
collects, and asserts that the right number of words arrived.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

CLOCK_NS = 10


def _config() -> dict:
    with open(os.environ["CODESIGN_TB_CONFIG"]) as f:
        return json.load(f)


async def _reset(dut) -> None:
    dut.ap_rst_n.value = 0
    dut.in0_V_TVALID.value = 0
    dut.in0_V_TDATA.value = 0
    dut.out0_V_TREADY.value = 0
    for _ in range(8):
        await FallingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 1
    for _ in range(4):
        await FallingEdge(dut.ap_clk)


@cocotb.test()
async def stream_layer(dut):
    """All input words in, all output words out (under random stalls), in order.

    Each cycle: drive at the falling edge, sample both handshakes in ReadOnly (stable values,
    combinational ready included); a word moves at the next rising edge when valid & ready.
    """
    cfg = _config()
    rng = random.Random(cfg.get("seed", 0))
    stall = float(cfg.get("stall", 0.0))
    words = [int(w, 16) for w in cfg["inputs"]]
    n_out = int(cfg["n_out"])
    cocotb.start_soon(Clock(dut.ap_clk, CLOCK_NS, unit="ns").start())
    if hasattr(dut, "ap_clk2x"):
        cocotb.start_soon(Clock(dut.ap_clk2x, CLOCK_NS // 2, unit="ns").start())
    await _reset(dut)
    outs, cycles, first_in = [], [], None
    i, cycle = 0, 0
    timeout = 200 * (len(words) + n_out) + 10_000
    while len(outs) < n_out and cycle < timeout:
        await FallingEdge(dut.ap_clk)
        cycle += 1
        offer = i < len(words) and rng.random() >= stall
        if offer:
            dut.in0_V_TDATA.value = words[i]
        dut.in0_V_TVALID.value = int(offer)
        dut.out0_V_TREADY.value = int(rng.random() >= stall)
        await ReadOnly()
        if offer and dut.in0_V_TREADY.value:
            first_in = cycle if first_in is None else first_in
            i += 1
        if dut.out0_V_TREADY.value and dut.out0_V_TVALID.value:
            outs.append(format(int(dut.out0_V_TDATA.value), "x"))
            cycles.append(cycle)
    with open(cfg["out_file"], "w") as f:
        json.dump({"outputs": outs, "cycles": cycles, "first_in_cycle": first_in}, f)
    assert i == len(words), f"only {i} of {len(words)} input words accepted"
    assert len(outs) == n_out, f"{len(outs)} of {n_out} output words before the timeout"
