"""cs_asq streams recorded for the golden comparison on the Python side.

Spec: stream every sample's u codes through the stage -- once one vector at a time
(latency), once back to back (interval), once with random input gaps and output back-pressure
(stall) -- and record per sample the q codes, g and the adapter's hidden codes h. The Python side
(codesign.verify.asq_sim) compares them with the golden model's "<layer>", "<layer>.g" and
"<layer>.h" tensors, so a mismatch is named by tensor, sample and index.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, pack_lanes, run_streams, start


@cocotb.test()
async def asq_streams(dut):
    cfg = config()
    u = np.load(cfg["inputs"])
    n, c = u.shape
    in_beat, u_w, lanes, bits = cfg["IN_BEAT"], cfg["U_W"], cfg["LANES"], cfg["BITS"]
    h, h_w = cfg["H"], cfg["H_W"]
    per_in, per_out = c // in_beat, c // lanes
    beats = [
        (pack_lanes(r[b * in_beat : (b + 1) * in_beat], u_w),)
        for r in u.tolist()
        for b in range(per_in)
    ]
    rng = random.Random(cfg.get("seed", 0))
    await start(dut)
    out: dict[str, np.ndarray] = {}
    for name, gap, bp, count in (
        ("latency", 0.0, 0.0, min(n, 4)),
        ("stream", 0.0, 0.0, n),
        ("stall", cfg.get("gap_p", 0.3), cfg.get("bp_p", 0.5), n),
    ):
        sink = Tap("q", dut.out_valid, dut.out_ready, dut.out_data)  # {g, q lanes}
        th = Tap("h", dut.out_valid, dut.out_ready, dut.h_vec)  # internal register
        one_at_a_time = name == "latency"
        res = await run_streams(
            dut,
            dut.in_valid,
            dut.in_ready,
            {"d": dut.in_data},
            beats[: count * per_in],
            [th],
            sink,
            count * per_out,
            gap_p=gap,
            bp_p=bp,
            rng=rng,
            gate=(lambda i, done: i // per_in <= done // per_out) if one_at_a_time else None,
            max_cycles=count * 40 * (c + 4 * h + per_out * (bits + 3)) + 1000,
        )
        assert not res.timeout, f"{name}: timeout after {res.cycles} cycles"
        q = [v for w in sink.beats for v in lanes_of(w, lanes, bits, False)]
        out[f"{name}__q"] = np.asarray(q, dtype=np.int64).reshape(count, c)
        g = [w >> (lanes * bits) for w in sink.beats[::per_out]]
        out[f"{name}__g"] = np.asarray(g, dtype=np.int64)
        out[f"{name}__h"] = np.asarray(
            [lanes_of(w, h, h_w, False) for w in th.beats[::per_out]], dtype=np.int64
        )
        first_in = np.asarray(res.in_cycles[::per_in], dtype=np.int64)
        last_out = np.asarray(sink.cycles[per_out - 1 :: per_out], dtype=np.int64)
        out[f"{name}__t_in"] = first_in
        out[f"{name}__t_out"] = last_out
    np.savez(cfg["out_npz"], **out)
