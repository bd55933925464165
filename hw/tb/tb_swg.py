"""cs_swg against numpy: every window beat of several images, under input gaps and output
back-pressure.

Spec (the reference below pads each image with the per-channel pad value and slices it, a
different construction from the RTL's line-buffer ring): for output pixel (ho, wo) and tap
(kh, kw), the beat holds pixel (ho * SH + kh * DH, wo * SW + kw * DW) of the padded image.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, pack_lanes, run_streams, start


def reference(images: np.ndarray, cfg: dict) -> list[list[int]]:
    """Window beats (each a list of C channel values) of every image, in output order."""
    pt, pl, pb, pr = cfg["PT"], cfg["PL"], cfg["PB"], cfg["PR"]
    n, h, w, c = images.shape
    padded = np.empty((n, h + pt + pb, w + pl + pr, c), dtype=np.int64)
    padded[...] = np.asarray(cfg["pad"], dtype=np.int64)
    padded[:, pt : pt + h, pl : pl + w] = images
    kh, kw, sh, sw, dh, dw = (cfg[k] for k in ("KH", "KW", "SH", "SW", "DH", "DW"))
    ho = (padded.shape[1] - dh * (kh - 1) - 1) // sh + 1
    wo = (padded.shape[2] - dw * (kw - 1) - 1) // sw + 1
    beats = []
    for img in padded:
        for y in range(ho):
            for x in range(wo):
                for u in range(kh):
                    for v in range(kw):
                        beats.append(img[y * sh + u * dh, x * sw + v * dw].tolist())
    return beats


@cocotb.test()
async def windows_match_reference(dut):
    cfg = config()
    rng = random.Random(cfg.get("seed", 1))
    c, e_w, h, w = cfg["C"], cfg["E_W"], cfg["H"], cfg["W"]
    lo, hi = (-(1 << (e_w - 1)), (1 << (e_w - 1)) - 1) if cfg["signed"] else (0, (1 << e_w) - 1)
    nprng = np.random.default_rng(cfg.get("seed", 1))
    images = nprng.integers(lo, hi + 1, (cfg["images"], h, w, c))
    exp = reference(images, cfg)
    beats = [(pack_lanes(px, e_w),) for img in images for row in img for px in row.tolist()]
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
        len(exp),
        gap_p=cfg.get("gap_p", 0.0),
        bp_p=cfg.get("bp_p", 0.0),
        rng=rng,
        max_cycles=20 * (len(exp) + len(beats)) + 100,
    )
    assert not res.timeout, f"timeout: {len(sink.beats)} of {len(exp)} window beats"
    got = [lanes_of(b, c, e_w, cfg["signed"]) for b in sink.beats]
    per = cfg["KH"] * cfg["KW"]
    for i, (g, e) in enumerate(zip(got, exp, strict=True)):
        if g != e:
            pixel, tap = divmod(i, per)
            raise AssertionError(
                f"beat {i} (output pixel {pixel}, tap {divmod(tap, cfg['KW'])}): rtl {g}, "
                f"expected {e}"
            )
    dut._log.info("%d window beats equal over %d cycles", len(exp), res.cycles)
    cfg_out = cfg.get("cycles_out")
    if cfg_out:
        with open(cfg_out, "w") as f:
            f.write(str(res.cycles))
