"""cocotb bench for delta_layer (hw/rtl/delta_encoder.v -> delta_accum.v).

Settings come from CODESIGN_TB_CONFIG (JSON, written by codesign/delta/rtl.py): `frames`
(per sample, per step, the N activation codes), `theta`, the widths, `phases` and `out`.
Phases:
  paced   one frame in flight: a frame's codes are sent only after the previous frame's outputs
          have all left, so the cycles from its first code to its last output beat are that
          frame's cost (recorded with its number of events);
  stream  every frame back to back with random input gaps and output back-pressure.
Each phase records the event stream (step, index, delta), the requantised outputs and the
accumulators per step; codesign/delta/rtl.py compares them with the golden model and names
layer, sample, step and index on a mismatch.
"""

from __future__ import annotations

import json
import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly
from cs_tb import config, lanes_of, start

MAX_IDLE = 100_000


async def run_phase(dut, cfg: dict, paced: bool, rng: random.Random) -> dict:
    frames = cfg["frames"]
    steps = len(frames[0])
    n_out, pe = cfg["OUT"], cfg["PE"]
    ng = n_out // pe
    beats = []  # (code, first, frame number)
    for s, sample in enumerate(frames):
        for t, codes in enumerate(sample):
            beats += [(c, int(t == 0), s * steps + t) for c in codes]
    n_frames = len(frames) * steps
    events = [[] for _ in range(n_frames)]
    outs = [[] for _ in range(n_frames)]
    accs = [[] for _ in range(n_frames)]
    start_cycle = [None] * n_frames
    end_cycle = [None] * n_frames
    gap_p = 0.0 if paced else cfg.get("gap_p", 0.3)
    bp_p = 0.0 if paced else cfg.get("bp_p", 0.5)
    fe, ro = FallingEdge(dut.clk), ReadOnly()
    nxt, cur, ev_frame, out_frame, out_beat, cycle, idle = 0, None, 0, 0, 0, 0, 0
    while out_frame < n_frames:
        await fe
        if cur is None and nxt < len(beats):
            frame_ok = not paced or beats[nxt][2] <= out_frame
            if frame_ok and (gap_p <= 0 or rng.random() >= gap_p):
                cur = nxt
        if cur is not None:
            dut.in_valid.value = 1
            dut.in_data.value = beats[cur][0]
            dut.in_first.value = beats[cur][1]
        else:
            dut.in_valid.value = 0
        dut.out_ready.value = 0 if (bp_p > 0 and rng.random() < bp_p) else 1
        await ro
        if cur is not None and int(dut.in_ready.value):
            f = beats[cur][2]
            if start_cycle[f] is None:
                start_cycle[f] = cycle
            cur = None
            nxt += 1
        if int(dut.ev_valid.value) and int(dut.ev_ready.value):
            if int(dut.ev_eof.value):
                ev_frame += 1
            else:
                delta = dut.ev_delta.value.to_signed()
                events[ev_frame].append((int(dut.ev_idx.value), delta))
        if int(dut.out_valid.value) and int(dut.out_ready.value):
            outs[out_frame] += lanes_of(int(dut.out_data.value), pe, cfg["OUT_W"], cfg["LO"] < 0)
            accs[out_frame] += lanes_of(int(dut.out_acc.value), pe, cfg["ACC_W"], True)
            out_beat += 1
            last = int(dut.out_last.value)
            assert last == int(out_beat == ng), (
                f"out_last wrong at frame {out_frame} beat {out_beat}"
            )
            if out_beat == ng:
                end_cycle[out_frame] = cycle
                out_frame += 1
                out_beat = 0
                idle = 0
        cycle += 1
        idle += 1
        assert idle < MAX_IDLE, f"no frame finished for {MAX_IDLE} cycles (frame {out_frame})"
    await fe
    dut.in_valid.value = 0
    cycles = [e - s + 1 for s, e in zip(start_cycle, end_cycle, strict=True)]
    return {"events": events, "outputs": outs, "accs": accs, "cycles": cycles, "total": cycle}


@cocotb.test()
async def delta_layer_run(dut):
    cfg = config()
    rng = random.Random(cfg.get("seed", 5))
    dut.theta.value = cfg["theta"]
    dut.in_valid.value = 0
    dut.in_first.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    await start(dut)
    results = {}
    for phase in cfg.get("phases", ["paced", "stream"]):
        results[phase] = await run_phase(dut, cfg, phase == "paced", rng)
        dut._log.info("%s: %d cycles", phase, results[phase]["total"])
    with open(cfg["out"], "w") as f:
        json.dump(results, f)
