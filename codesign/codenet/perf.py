"""Cycle model of codenet_accel (hw/rtl/codenet_pw.v, codenet_dw.v), checked against simulation.

1x1 layer (PA x PE array), per pixel: load cin/PA beats, then for each of cout/PE output groups
cin/PA MAC cycles + 1 requantisation cycle:  npix * (ni + no * (ni + 1)).
Deformable depthwise layer (PE lanes, taps one per cycle): load H*W*ng beats; per output pixel
1 cycle to take s, then per group 9 tap reads + 1 pipeline + 1 requantisation cycle; 1 cycle per
row step (H + SMAX steps):  H*W*ng + H*W*(1 + 11*ng) + H + SMAX.
Ideal: MACs / parallel MACs (PA*PE for 1x1, PE for the depthwise unit). The sink is always ready.
"""

from __future__ import annotations

import math

SMAX = 8
DW_CYCLES_PER_GROUP = 11  # 9 taps + 1 read pipeline + 1 requantisation


def pw_cycles(h: int, w: int, cin: int, cout: int, pa: int, pe: int) -> int:
    ni, no = math.ceil(cin / pa), math.ceil(cout / pe)
    return h * w * (ni + no * (ni + 1))


def dw_cycles(h: int, w: int, c: int, pe: int, stride: int = 1) -> int:
    """stride 2 (paper-scale graphs only) computes a quarter of the pixels over the same input."""
    ng = math.ceil(c / pe)
    ho, wo = math.ceil(h / stride), math.ceil(w / stride)
    return h * w * ng + ho * wo * (1 + DW_CYCLES_PER_GROUP * ng) + ho + SMAX


def ideal_pw(h, w, cin, cout, pa, pe) -> float:
    return h * w * cin * cout / (pa * pe)


def ideal_dw(h, w, c, pe, stride: int = 1) -> float:
    return math.ceil(h / stride) * math.ceil(w / stride) * c * 9 / pe


def graph_cycles(graph, pa: int, pe: int) -> dict:
    """Per-layer analytic and ideal cycles of a CoDeNet graph on codenet_accel(PA, PE)."""
    from codesign.codenet.graph import codenet_net

    graph = codenet_net(graph)
    _, h, w = graph.input_shape
    rows = {}
    for lay in graph.layers:
        if lay.kind == "pw":
            cyc = pw_cycles(h, w, lay.in_channels, lay.out_channels, pa, pe)
            ideal = ideal_pw(h, w, lay.in_channels, lay.out_channels, pa, pe)
        else:
            cyc = dw_cycles(h, w, lay.out_channels, pe)
            ideal = ideal_dw(h, w, lay.out_channels, pe)
        rows[lay.name] = {
            "model_cycles": cyc,
            "ideal_cycles": ideal,
            "macs": lay.macs_per_pixel() * h * w,
        }
    return rows
