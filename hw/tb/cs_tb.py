"""Shared cocotb helpers: clock/reset and a one-coroutine stream driver + monitor.

One loop per clock cycle drives the source and the sink's ready after the falling edge, then
samples every tapped stream in the ReadOnly phase: a beat is recorded when valid & ready are
both high, i.e. exactly the transfers the next rising edge performs. Keeping all streams in one
coroutine (two awaits per cycle) is what makes a few hundred thousand cycles take seconds.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


def config() -> dict:
    """The bench's settings, written by the Python runner as JSON (path in CODESIGN_TB_CONFIG)."""
    with open(os.environ["CODESIGN_TB_CONFIG"]) as f:
        return json.load(f)


def lanes_of(word: int, lanes: int, bits: int, signed: bool) -> list[int]:
    """Split a bus value into lane integers (lane 0 in the low bits)."""
    mask = (1 << bits) - 1
    out = []
    for i in range(lanes):
        v = (word >> (i * bits)) & mask
        if signed and v >> (bits - 1):
            v -= 1 << bits
        out.append(v)
    return out


def pack_lanes(values, bits: int) -> int:
    mask = (1 << bits) - 1
    w = 0
    for i, v in enumerate(values):
        w |= (int(v) & mask) << (i * bits)
    return w


async def start(dut, clk_name: str = "clk", rst_name: str = "rst_n", cycles: int = 4) -> None:
    """Start a 10 ns clock and hold the active-low synchronous reset for `cycles` edges."""
    clk = getattr(dut, clk_name)
    Clock(clk, 10, unit="ns").start()
    getattr(dut, rst_name).value = 0
    for _ in range(cycles):
        await RisingEdge(clk)
    await FallingEdge(clk)
    getattr(dut, rst_name).value = 1


@dataclass
class Tap:
    """A stream to record: its valid/ready/data handles (ready may be driven by the bench)."""

    name: str
    valid: object
    ready: object
    data: object
    beats: list = field(default_factory=list)
    cycles: list = field(default_factory=list)


@dataclass
class RunResult:
    cycles: int
    timeout: bool
    in_cycles: list
    taps: dict


async def run_streams(
    dut,
    in_valid,
    in_ready,
    in_fields: dict,
    beats: list[tuple],
    taps: list[Tap],
    sink: Tap,
    expected_out_beats: int,
    gap_p: float = 0.0,
    bp_p: float = 0.0,
    rng: random.Random | None = None,
    gate=None,
    max_cycles: int = 1_000_000,
) -> RunResult:
    """Send `beats` (tuples in the order of `in_fields` handles) and collect `taps` + `sink`.

    gap_p: chance of idling the source before a new beat; bp_p: chance the sink's ready is low
    in a cycle. `gate(i, n_sink_beats)` may hold back beat i (e.g. one sample at a time). Stops
    when the sink has `expected_out_beats` beats or after max_cycles (timeout=True).
    """
    rng = rng or random.Random(0)
    clk = dut.clk
    fe, ro = FallingEdge(clk), ReadOnly()
    handles = list(in_fields.values())
    all_taps = taps + [sink]
    cur = None
    nxt = 0
    cycle = 0
    in_cycles = []
    last_vals = [None] * len(handles)
    timeout = False
    # drive the bench's own signals for one cycle first: Icarus applies a write made in a
    # falling-edge callback only after that step's ReadOnly phase, so the very first sample of
    # a never-driven ready would read 'Z'
    in_valid.value = 0
    sink.ready.value = 0
    await fe
    while len(sink.beats) < expected_out_beats:
        await fe
        if cur is None and nxt < len(beats):
            if (gate is None or gate(nxt, len(sink.beats))) and (
                gap_p <= 0 or rng.random() >= gap_p
            ):
                cur = nxt
        if cur is not None:
            in_valid.value = 1
            vals = beats[cur]
            for k, h in enumerate(handles):
                if vals[k] != last_vals[k]:
                    h.value = vals[k]
                    last_vals[k] = vals[k]
        else:
            in_valid.value = 0
        sink.ready.value = 0 if (bp_p > 0 and rng.random() < bp_p) else 1
        await ro
        if cur is not None and int(in_ready.value):
            in_cycles.append(cycle)
            cur = None
            nxt += 1
        for t in all_taps:
            if int(t.valid.value) and int(t.ready.value):
                t.beats.append(int(t.data.value))
                t.cycles.append(cycle)
        cycle += 1
        if cycle >= max_cycles:
            timeout = True
            break
    await fe
    in_valid.value = 0
    return RunResult(cycle, timeout, in_cycles, {t.name: t for t in all_taps})
