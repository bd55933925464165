"""cs_requant (golden rule / half_up) against the Python reference codesign.ir.golden.

Spec: every beat's output equals clamp(round_shift(acc * mult, shift, rounding), LO, HI), for
random values, corners (extreme accumulators, multiplier 0 and max, shift 0 and max) and exact
ties (acc * mult = (2k + 1) * 2**(shift - 1), where the two roundings differ), under random
input gaps and output back-pressure.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cs_tb import Tap, config, run_streams, start

from codesign.ir.golden import round_shift


def vectors(cfg: dict, rng: random.Random) -> list[tuple[int, int, int]]:
    aw, mw, ms = cfg["ACC_W"], cfg["MULT_W"], cfg["MAX_SHIFT"]
    amin, amax, mmax = -(1 << (aw - 1)), (1 << (aw - 1)) - 1, (1 << mw) - 1
    v = []
    for a in (amin, amin + 1, -1, 0, 1, amax - 1, amax):
        for m in (0, 1, mmax):
            for s in sorted({0, 1, ms // 2, ms}):
                v.append((a, m, s))
    for _ in range(400):  # exact ties: acc * mult = (2k + 1) * 2**(s - 1), mult = 2**j
        s = rng.randint(1, ms)
        j = rng.randint(0, min(s - 1, mw - 1))
        a = (2 * rng.randint(-64, 63) + 1) << (s - 1 - j)
        if amin <= a <= amax:
            v.append((a, 1 << j, s))
    for _ in range(int(cfg.get("random", 3000))):
        v.append((rng.randint(amin, amax), rng.randint(0, mmax), rng.randint(0, ms)))
    return v


def reference(cfg: dict, vecs: list[tuple[int, int, int]]) -> list[int]:
    a = np.array([x[0] for x in vecs], dtype=object)
    m = np.array([x[1] for x in vecs], dtype=object)
    s = np.array([x[2] for x in vecs], dtype=np.int64)
    prod = (a * m).astype(np.int64)  # fits: ACC_W + MULT_W <= 62 in these benches
    r = round_shift(prod, s, cfg["rounding"])
    return [int(v) for v in np.clip(r, cfg["LO"], cfg["HI"])]


@cocotb.test()
async def requant_matches_reference(dut):
    cfg = config()
    rng = random.Random(cfg.get("seed", 1))
    vecs = vectors(cfg, rng)
    exp = reference(cfg, vecs)
    aw, ow = cfg["ACC_W"], cfg["OUT_W"]
    beats = [(a & ((1 << aw) - 1), m, s) for a, m, s in vecs]
    await start(dut)
    sink = Tap("out", dut.out_valid, dut.out_ready, dut.out_q)
    res = await run_streams(
        dut,
        dut.in_valid,
        dut.in_ready,
        {"acc": dut.in_acc, "mult": dut.in_mult, "shift": dut.in_shift},
        beats,
        [],
        sink,
        len(beats),
        gap_p=0.3,
        bp_p=0.3,
        rng=rng,
        max_cycles=20 * len(beats),
    )
    assert not res.timeout
    signed = cfg["LO"] < 0
    got = []
    for w in sink.beats:
        got.append(w - (1 << ow) if signed and w >> (ow - 1) else w)
    bad = [(i, vecs[i], exp[i], g) for i, g in enumerate(got) if g != exp[i]]
    assert not bad, (
        f"{len(bad)} of {len(vecs)} differ; first (i, (acc, mult, shift), ref, rtl): {bad[0]}"
    )
    dut._log.info("%d vectors equal (%s)", len(vecs), cfg["rounding"])
