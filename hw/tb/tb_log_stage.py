"""AdaLog stage units (cs_log_encode, cs_log_decode): stream recorded golden tensors through.

Spec: every element of the input tensor (samples x features, element i of a vector in lane
i % LANES of beat i // LANES) comes out as one output element in the same place, under random
input gaps and output back-pressure; the bench records the output stream to an npz and the
Python side compares it with the golden model (codesign.ir.compare), so a mismatch is named by
tensor, sample and index.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, pack_lanes, run_streams, start


@cocotb.test()
async def stream_golden_tensor(dut):
    cfg = config()
    x = np.load(cfg["inputs"])
    lanes, in_w, out_w = cfg["LANES"], cfg["IN_W"], cfg["OUT_W"]
    n, feats = x.shape
    beats = [
        (pack_lanes(row[b * lanes : (b + 1) * lanes], in_w),)
        for row in x.tolist()
        for b in range(feats // lanes)
    ]
    rng = random.Random(cfg.get("seed", 0))
    await start(dut)
    sink = Tap("out", dut.out_valid, dut.out_ready, dut.out_data)
    res = await run_streams(
        dut,
        dut.in_valid,
        dut.in_ready,
        {"data": dut.in_data},
        beats,
        [],
        sink,
        len(beats),
        gap_p=float(cfg.get("gap_p", 0.3)),
        bp_p=float(cfg.get("bp_p", 0.3)),
        rng=rng,
        max_cycles=20 * len(beats) + 100,
    )
    out = []
    for w in sink.beats:
        out.extend(lanes_of(w, lanes, out_w, False))
    got = np.asarray(out, dtype=np.int64)
    tmp = cfg["out_npz"] + ".tmp.npz"
    np.savez(tmp, out=got, cycles=np.int64(res.cycles))
    os.replace(tmp, cfg["out_npz"])
    assert not res.timeout, f"timeout after {res.cycles} cycles, {len(sink.beats)} beats out"
    dut._log.info("%d beats through in %d cycles", len(sink.beats), res.cycles)
