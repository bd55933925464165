"""cs_mvu on one random layer: every output equals the golden dense layer, under random
input gaps and output back-pressure; also checks one vector's latency against the model.
With config "g" (a layer after an ASQ stage) every beat also carries its vector's factor g."""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, pack_lanes, run_streams, start


@cocotb.test()
async def mvu_matches_golden(dut):
    cfg = config()
    x = np.load(cfg["inputs"])
    y = np.load(cfg["expected"])
    rng = random.Random(cfg.get("seed", 3))
    n_beat, in_w = cfg["IN_BEAT"], cfg["IN_W"]
    pe, out_w, signed = cfg["PE"], cfg["OUT_W"], cfg["OUT_LO"] < 0
    per = x.shape[1] // n_beat
    # a dynamic-scale layer (cs_mvu G_W > 0) gets each vector's g above the codes of every beat
    g = np.load(cfg["g"]).tolist() if cfg.get("g") else [0] * x.shape[0]
    beats = [
        (pack_lanes(r[b * n_beat : (b + 1) * n_beat], in_w) | (int(gi) << (n_beat * in_w)),)
        for r, gi in zip(x.tolist(), g, strict=True)
        for b in range(per)
    ]
    out_beats = y.shape[1] // pe
    await start(dut)

    # one vector alone: latency = beats + NF*SF + 2 (cs_mvu header)
    sink = Tap("out", dut.out_valid, dut.out_ready, dut.out_data)
    await run_streams(
        dut, dut.in_valid, dut.in_ready, {"d": dut.in_data}, beats[:per], [], sink, out_beats
    )
    lat = sink.cycles[-1] - 0 + 1
    ideal = cfg["NF"] * cfg["SF"]
    assert lat - per - 2 <= ideal + 1, f"latency {lat} vs beats {per} + {ideal} + 2"

    for name, gap, bp in (
        ("stream", 0.0, 0.0),
        ("stall", cfg.get("gap_p", 0.4), cfg.get("bp_p", 0.6)),
    ):
        sink = Tap("out", dut.out_valid, dut.out_ready, dut.out_data)
        res = await run_streams(
            dut,
            dut.in_valid,
            dut.in_ready,
            {"d": dut.in_data},
            beats,
            [],
            sink,
            out_beats * x.shape[0],
            gap_p=gap,
            bp_p=bp,
            rng=rng,
            max_cycles=200 * len(beats) * (ideal + 4),
        )
        assert not res.timeout, name
        got = np.array([v for w in sink.beats for v in lanes_of(w, pe, out_w, signed)])
        got = got.reshape(y.shape)
        diff = np.argwhere(got != y)
        assert diff.size == 0, (
            f"{name}: {len(diff)} differ; first sample {diff[0][0]} index {diff[0][1]}: "
            f"rtl {got[tuple(diff[0])]} golden {y[tuple(diff[0])]}"
        )
        if name == "stream":
            t = sink.cycles[out_beats - 1 :: out_beats]
            interval = (t[-1] - t[0]) / max(1, len(t) - 1)
            assert interval <= max(ideal, per) + 0.5, f"interval {interval} vs {ideal}"
            dut._log.info("interval %.2f cycles/vector (ideal %d)", interval, ideal)
