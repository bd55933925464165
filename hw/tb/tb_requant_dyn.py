"""cs_requant with DYN = 1: (acc, g, bias, mult, shift) beats with random gaps and
back-pressure; every output recorded for the golden comparison on the Python side
(codesign.verify.asq_sim)."""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, run_streams, start


@cocotb.test()
async def requant_dyn_stream(dut):
    cfg = config()
    d = np.load(cfg["inputs"])
    aw, dw = cfg["ACC_W"], cfg["DYN_W"]
    beats = [
        (int(a) & ((1 << aw) - 1), int(g), int(b) & ((1 << dw) - 1), int(m), int(s))
        for a, g, b, m, s in zip(d["acc"], d["g"], d["bias"], d["mult"], d["shift"], strict=True)
    ]
    rng = random.Random(cfg.get("seed", 1))
    await start(dut)
    sink = Tap("q", dut.out_valid, dut.out_ready, dut.out_q)
    res = await run_streams(
        dut,
        dut.in_valid,
        dut.in_ready,
        {
            "acc": dut.in_acc,
            "g": dut.in_g,
            "bias": dut.in_bias,
            "mult": dut.in_mult,
            "shift": dut.in_shift,
        },
        beats,
        [],
        sink,
        len(beats),
        gap_p=0.2,
        bp_p=0.3,
        rng=rng,
        max_cycles=20 * len(beats) + 100,
    )
    assert not res.timeout
    ow, signed = cfg["OUT_W"], cfg["LO"] < 0
    q = [lanes_of(w, 1, ow, signed)[0] for w in sink.beats]
    np.savez(cfg["out_npz"], q=np.asarray(q, dtype=np.int64))
