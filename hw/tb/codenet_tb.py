"""cocotb bench for codenet_accel: the host program of a CoDeNet-family model, layer by layer.

The Python runner (codesign/codenet/rtl.py) writes the program (per layer: unit, channel groups,
ReLU, memory words) and the input images as JSON. For every image the bench runs the layers in
order, each fed with the feature maps the RTL itself produced for the earlier layers (so a fault
propagates and the comparison names the first layer that departs from the golden model), and
records every output integer and the cycles from `start` to the last output beat. One loop per
clock cycle drives the inputs after the falling edge and samples transfers in ReadOnly.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


def pack(values, bits: int) -> int:
    mask = (1 << bits) - 1
    w = 0
    for i, v in enumerate(values):
        w |= (int(v) & mask) << (i * bits)
    return w


def lanes(word: int, n: int) -> list[int]:
    out = []
    for i in range(n):
        v = (word >> (8 * i)) & 0xFF
        out.append(v - 256 if v & 0x80 else v)
    return out


async def run_layer(dut, lay: dict, fmap: dict, hw: dict) -> tuple[list, int, int]:
    """Load the layer's memories, start it, stream; returns (NHWC output, cycles, load cycles)."""
    fe, ro = FallingEdge(dut.clk), ReadOnly()
    load = 0
    for sel, addr, data in lay["writes"]:
        await fe
        dut.wr_en.value = 1
        dut.wr_sel.value = sel
        dut.wr_addr.value = addr
        dut.wr_data.value = int(data, 16)
        load += 1
    await fe
    dut.wr_en.value = 0
    dut.cfg_mode.value = lay["mode"]
    dut.cfg_ni_m1.value = lay["ni_m1"]
    dut.cfg_no_m1.value = lay["no_m1"]
    dut.cfg_relu.value = lay["relu"]
    dut.cfg_npix_m1.value = hw["H"] * hw["W"] - 1
    dut.start.value = 1
    await fe
    dut.start.value = 0
    lanes_in = hw["PA"] if lay["mode"] == 0 else hw["PE"]
    src = fmap[lay["src"]]  # list of pixels (row-major), each a list of channels
    beats = []
    for px in src:
        for j in range(0, len(px), lanes_in):
            beats.append(pack(px[j : j + lanes_in], 8))
    s_beats = [fmap[lay["s_src"]][i][0] & 0xFF for i in range(len(src))] if lay["mode"] == 1 else []
    n_out = len(src) * (lay["no_m1"] + 1)
    out_words = []
    bi = si = 0
    cycle = 0
    dut.out_ready.value = 1
    while len(out_words) < n_out:
        dut.in_valid.value = int(bi < len(beats))
        if bi < len(beats):
            dut.in_data.value = beats[bi]
        dut.s_valid.value = int(si < len(s_beats))
        if si < len(s_beats):
            dut.s_data.value = s_beats[si]
        await ro
        if bi < len(beats) and int(dut.in_ready.value):
            bi += 1
        if si < len(s_beats) and int(dut.s_ready.value):
            si += 1
        if int(dut.out_valid.value):
            out_words.append(int(dut.out_data.value))
        cycle += 1
        if cycle > lay["max_cycles"]:
            raise AssertionError(f"layer {lay['name']}: timeout after {cycle} cycles")
        await fe
    dut.in_valid.value = 0
    dut.s_valid.value = 0
    groups = lay["no_m1"] + 1
    out = []
    for p in range(len(src)):
        ch = []
        for g in range(groups):
            ch += lanes(out_words[p * groups + g], hw["PE"])
        out.append(ch[: lay["cout"]])
    return out, cycle, load


@cocotb.test()
async def codenet_model(dut):
    with open(os.environ["CODESIGN_TB_CONFIG"]) as f:
        cfg = json.load(f)
    hw = cfg["hw"]
    Clock(dut.clk, 10, unit="ns").start()
    for sig in ("start", "wr_en", "in_valid", "s_valid", "out_ready", "cfg_mode"):
        getattr(dut, sig).value = 0
    dut.rst_n.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst_n.value = 1
    results = []
    for img in cfg["inputs"]:
        fmap = {"input": img}
        cycles, loads = {}, {}
        for lay in cfg["program"]:
            fmap[lay["name"]], cycles[lay["name"]], loads[lay["name"]] = await run_layer(
                dut, lay, fmap, hw
            )
        results.append(
            {
                "tensors": {k: v for k, v in fmap.items() if k != "input"},
                "cycles": cycles,
                "load_cycles": loads,
            }
        )
    with open(cfg["out"], "w") as f:
        json.dump(results, f)
