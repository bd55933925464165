"""cs_requant_codenet: CoDeNet's published vectors, then random values against the Python rule.

Rule (hqjenny/CoDeNet, ../shared/REFERENCES.md; scale unsigned, bias signed, 16 bit):
q = ((acc*scale + 2**15) >> 16) + bias; if relu: q = max(q, 0) - 128; out = clamp(q, -128, 127).
"""

from __future__ import annotations

import random

import cocotb
from cs_tb import Tap, config, run_streams, start

# (acc, scale, bias, relu) -> out, published with the CoDeNet accelerator (REFERENCES.md)
PUBLISHED = [
    ((100, 16384, 3, 1), -100),
    ((1000, 32768, 0, 1), 127),
    ((-100, 16384, 3, 0), -22),
    ((6, 16384, 0, 0), 2),
]


def codenet_rule(
    acc: int, scale: int, bias: int, relu: int, shift: int = 16, act_w: int = 8
) -> int:
    q = ((acc * scale + (1 << (shift - 1))) >> shift) + bias
    if relu:
        q = max(q, 0) - (1 << (act_w - 1))
    return max(-(1 << (act_w - 1)), min((1 << (act_w - 1)) - 1, q))


@cocotb.test()
async def codenet_vectors_and_random(dut):
    cfg = config()
    rng = random.Random(cfg.get("seed", 2))
    aw = cfg["ACC_W"]
    vecs = [v for v, _ in PUBLISHED]
    for _ in range(int(cfg.get("random", 3000))):
        vecs.append(
            (
                rng.randint(-(1 << (aw - 1)), (1 << (aw - 1)) - 1),
                rng.randint(0, (1 << 16) - 1),
                rng.randint(-(1 << 15), (1 << 15) - 1),
                rng.randint(0, 1),
            )
        )
    for v, out in PUBLISHED:
        assert codenet_rule(*v) == out, f"reference disagrees with published {v} -> {out}"
    exp = [codenet_rule(*v) for v in vecs]
    m16 = (1 << 16) - 1
    beats = [(a & ((1 << aw) - 1), s & m16, b & m16, r) for a, s, b, r in vecs]
    await start(dut)
    sink = Tap("out", dut.out_valid, dut.out_ready, dut.out_q)
    res = await run_streams(
        dut,
        dut.in_valid,
        dut.in_ready,
        {"acc": dut.in_acc, "scale": dut.in_scale, "bias": dut.in_bias, "relu": dut.in_relu},
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
    got = [w - 256 if w >> 7 else w for w in sink.beats]
    for i, (v, out) in enumerate(PUBLISHED):
        assert got[i] == out, f"published vector {v}: rtl {got[i]}, paper {out}"
    bad = [(vecs[i], exp[i], g) for i, g in enumerate(got) if g != exp[i]]
    assert not bad, f"{len(bad)} differ; first ((acc, scale, bias, relu), ref, rtl): {bad[0]}"
