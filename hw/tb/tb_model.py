"""Whole-model bench: stream every sample through the generated top, record every layer stream.

Spec: three passes over the test samples --
  latency: a few samples one at a time (no stalls): cycles from the first input beat accepted
           to the last output beat accepted;
  stream : all samples back to back (no stalls): the steady-state cycles per inference;
  stall  : all samples with random input gaps and random output back-pressure.
Every tapped stream (each layer's output) of every pass is written to an npz; the Python side
(codesign.verify.simulate) compares them with the golden model layer by layer.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cs_tb import Tap, config, lanes_of, pack_lanes, run_streams, start


def _decode(tap: Tap, lanes: int, bits: int, signed: bool) -> np.ndarray:
    out = []
    for w in tap.beats:
        out.extend(lanes_of(w, lanes, bits, signed))
    return np.asarray(out, dtype=np.int64)


@cocotb.test()
async def model_all_samples(dut):
    cfg = config()
    with open(cfg["manifest"]) as f:
        man = json.load(f)
    x = np.load(cfg["inputs"])
    n = int(x.shape[0])
    rng = random.Random(cfg.get("seed", 0))
    inp, out = man["input"], man["output"]
    lanes, bits = inp["lanes"], inp["elem_bits"]
    per_sample = inp["beats_per_vector"]
    beats = [
        (pack_lanes(row[b * lanes : (b + 1) * lanes], bits),)
        for row in x.tolist()
        for b in range(per_sample)
    ]
    out_per_sample = out["beats_per_vector"]
    lat_model = man["latency_cycles"]
    await start(dut)

    def make_taps():
        taps = []
        for lay in man["layers"][:-1]:
            t = lay["tap"]
            taps.append(
                Tap(
                    lay["name"],
                    getattr(dut, t["valid"]),
                    getattr(dut, t["ready"]),
                    getattr(dut, t["data"]),
                )
            )
        last = man["layers"][-1]["name"]
        sink = Tap(last, dut.out_valid, dut.out_ready, dut.out_data)
        return taps, sink

    passes = [
        ("latency", min(n, int(cfg.get("latency_samples", 4))), 0.0, 0.0, True),
        ("stream", n, 0.0, 0.0, False),
        ("stall", n, float(cfg.get("gap_p", 0.3)), float(cfg.get("bp_p", 0.85)), False),
    ]
    arrays: dict[str, np.ndarray] = {}
    info: dict[str, dict] = {}
    for name, count, gap, bp, one_at_a_time in passes:
        if name in cfg.get("skip_passes", []):
            continue
        taps, sink = make_taps()

        def gate(i, got, _ps=per_sample, _ops=out_per_sample):
            return i % _ps != 0 or got >= (i // _ps) * _ops

        budget = (count + 2) * (lat_model + 16) * (1 if gap == bp == 0 else 8) + 1000
        res = await run_streams(
            dut,
            dut.in_valid,
            dut.in_ready,
            {"data": dut.in_data},
            beats[: count * per_sample],
            taps,
            sink,
            count * out_per_sample,
            gap_p=gap,
            bp_p=bp,
            rng=rng,
            gate=gate if one_at_a_time else None,
            max_cycles=budget,
        )
        for lay in man["layers"]:
            t = lay["tap"]
            arrays[f"{name}__{lay['name']}"] = _decode(
                res.taps[lay["name"]], t["lanes"], t["elem_bits"], t["signed"]
            )
        t_in = res.in_cycles[::per_sample]
        t_out = sink.cycles[out_per_sample - 1 :: out_per_sample]
        arrays[f"{name}__t_in"] = np.asarray(t_in, dtype=np.int64)
        arrays[f"{name}__t_out"] = np.asarray(t_out, dtype=np.int64)
        info[name] = {
            "samples": count,
            "cycles": res.cycles,
            "timeout": res.timeout,
            "gap_p": gap,
            "bp_p": bp,
        }
        for _ in range(lat_model + 4):  # drain: nothing may be left in flight
            await cocotb.triggers.RisingEdge(dut.clk)

    tmp = cfg["out_npz"] + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, cfg["out_npz"])
    with open(cfg["out_json"] + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(cfg["out_json"] + ".tmp", cfg["out_json"])
    assert not any(v["timeout"] for v in info.values()), f"timeout: {info}"
