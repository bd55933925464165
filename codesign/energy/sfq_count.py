"""SFQ junction switchings of the spiking and CoDeNet zoo models, counted from measured activity.

No pulse-level simulation here (the SFQ simulator maps dense IntGraphs only; the integer LIF's
leak and hard reset and CoDeNet's data-dependent taps are not cells of its library). Instead
each pulse that the golden activity implies is walked through a netlist built from the cells of
codesign/sim/sfq/cells.py (PyLSE's library and the bias-set SYN / IFN neuromorphic cells after
Karamuftuoglu et al., arXiv 2311.10721), and charged the junctions that
codesign/sim/sfq/energy.py charges a cell for it (SW_IN per input pulse, SW_OUT per output
pulse; JJ counts from cells.CELLS):

    SPL    1 in + 2 x 1 out  = 3 switchings per pulse through a splitter
    SYN    1 in + 1 out      = 2 per pulse through a synapse
    IFN    1 per input pulse, 2 per output pulse
    DRO    1 per data pulse in + 2 out = 3 per stage a pulse is shifted through; 1 per clock pulse

Spiking layers (delay_snn, hd_snn): one SYN per synapse (the RTL's synapse list; hdconv
expanded over pixels), one IFN per neuron. A spike of input i enters a DRO shift register
clocked once per time step (one stage per step of delay, up to the largest delay of i's
synapses); at every delay d that i's synapses use, a splitter taps the chain (none at its last
stage) and a balanced splitter tree fans the pulse out to the k synapses with that delay
(k - 1 splitters). Per spike at step t: 3 x min(D_i, T-1-t) for the chain, and for every tap
d with t + d <= T-1: 3 (tap splitter, if d < D_i) + 3 (k - 1) + k (2 + 1); per output spike
2. Clock: every DRO gets one pulse per step through a splitter tree (N_DRO - 1 splitters).
The leak, threshold and hard reset of the integer LIF are not cells of the library and are not
priced (a bias-set IF neuron has no per-step cost in this model).

CoDeNet (rate coded, as codesign/sim/sfq/mapping.py maps dense layers): an activation a is
|a - zp| pulses; every MAC with a non-zero weight is a physical SYN (the unrolled network),
every output an IFN; a pulse of input element e goes through a splitter tree with one leaf per
synapse it feeds (F_e leaves: 3 (F_e - 1)) and into each synapse and neuron input (2 + 1 per
leaf). Each output emits |y - zp_out| pulses (2 each). The deformable taps' data-dependent
routing is assumed free (F_e counted from the taps the golden model sampled); the JJ count of
the splitter trees uses the plain 3x3 geometry (s = 1).

Static power and latency: JJs x b x Ic x V_bias over the inference time. Spiking: T steps of a
clock period = the longest path of one step through every layer (DRO clock-to-out + setup + per
layer: tap splitter + tree depth x SPL + SYN + IFN). CoDeNet: per layer, the largest unary
count x the pulse period (20 ps, the mapping's default) + its splitter tree, SYN and IFN delays,
layers in sequence (no overlap: an upper bound).
"""

from __future__ import annotations

import math

import numpy as np

from codesign.errors import CodesignError
from codesign.sim.sfq.cells import CELLS, IFN_JJS_PER_INPUT
from codesign.sim.sfq.energy import SW_IN, SW_OUT

SPL_SW = SW_IN["SPL"] + 2 * SW_OUT["SPL"]  # 3
SYN_SW = SW_IN["SYN"] + SW_OUT["SYN"]  # 2
IFN_IN_SW = SW_IN["IFN"]  # 1
IFN_OUT_SW = SW_OUT["IFN"]  # 2
DRO_SW = SW_IN["DRO"] + SW_OUT["DRO"]  # 3 per data pulse shifted through a stage
CLK_SW = SW_IN["DRO"]  # 1 per clock pulse into a DRO
LEAF_SW = SYN_SW + IFN_IN_SW  # 3 per pulse delivered to one synapse and its neuron input
PULSE_PERIOD_PS = 20.0  # codesign/sim/sfq/mapping.py map_graph default period_ps


def _depth(k: int) -> int:
    return int(math.ceil(math.log2(k))) if k > 1 else 0


def snn_taps(lay, in_shape: tuple[int, ...]) -> np.ndarray:
    """Synapses per (input neuron, delay): (n_pre, D) integers, the synapse list of the RTL
    (dense: w != 0; hdconv: expanded over pixels, targets inside the frame)."""
    if lay.kind == "dense":  # weight (out, in, delays)
        return np.count_nonzero(lay.weight, axis=0).astype(np.int64)
    o_ch, c_ch, depth, kh, kw = lay.weight.shape
    _, h, w = in_shape
    taps = np.zeros((c_ch, h, w, depth), dtype=np.int64)
    ys, xs = np.arange(h), np.arange(w)
    for u in range(kh):
        # input row y feeds output row y' = y - (u - kh//2) when that is inside the frame
        vy = ((ys - (u - kh // 2) >= 0) & (ys - (u - kh // 2) < h)).astype(np.int64)
        for v in range(kw):
            vx = ((xs - (v - kw // 2) >= 0) & (xs - (v - kw // 2) < w)).astype(np.int64)
            m = np.count_nonzero(lay.weight[:, :, :, u, v], axis=0)  # (C, D)
            taps += m[:, None, None, :] * (vy[:, None] * vx[None, :])[None, :, :, None]
    return taps.reshape(c_ch * h * w, depth)


def snn_layer_counts(lay, spikes_in: np.ndarray, spikes_out: np.ndarray | None) -> dict:
    """Per-inference switchings of one spiking layer, its JJs and the path of one step."""
    s = np.asarray(spikes_in)
    n, steps = s.shape[:2]
    taps = snn_taps(lay, tuple(s.shape[2:]))
    s = s.reshape(n, steps, -1).astype(np.int64)
    if s.shape[2] != taps.shape[0]:
        raise CodesignError(f"layer '{lay.name}': {s.shape[2]} inputs, {taps.shape[0]} expected")
    used = taps > 0
    dmax = np.where(used.any(axis=1), used.shape[1] - 1 - np.argmax(used[:, ::-1], axis=1), -1)
    chain = np.maximum(dmax, 0)  # DRO stages per input
    # spikes of input i at steps t <= T-1-d: reach tap d inside the window
    csum = np.cumsum(s, axis=1)  # (n, T, pre)
    sw_tap = delivered = 0.0
    t_idx = np.arange(steps)
    stage_passes = (s * np.minimum(chain[None, None, :], (steps - 1 - t_idx)[None, :, None])).sum()
    sw_chain = DRO_SW * float(stage_passes)
    for d in range(taps.shape[1]):
        k = taps[:, d]
        if not k.any() or d > steps - 1:
            continue
        reach = csum[:, steps - 1 - d, :].sum(axis=0)  # per input, over samples
        split = np.where((k > 0) & (d < chain), SPL_SW, 0)
        sw_tap += float((reach * (split + SPL_SW * np.maximum(k - 1, 0) + LEAF_SW * k)).sum())
        delivered += float((reach * k).sum())
    n_dro = int(chain.sum())
    sw_clock = steps * (CLK_SW * n_dro + SPL_SW * max(n_dro - 1, 0))  # per inference
    out_spikes = float(np.asarray(spikes_out).sum()) if spikes_out is not None else 0.0
    sw_out = IFN_OUT_SW * out_spikes
    synapses = int(taps.sum())
    pixels = 1 if lay.kind == "dense" else taps.shape[0] // lay.in_channels  # 'same' conv
    neurons = lay.out_channels * pixels
    tap_splits = int(((taps > 0) & (np.arange(taps.shape[1])[None, :] < chain[:, None])).sum())
    tree_spl = int(np.maximum(taps - 1, 0).sum())
    spl = tap_splits + tree_spl + max(n_dro - 1, 0)
    jj = {
        "SYN": CELLS["SYN"].jjs * synapses,
        "IFN": CELLS["IFN"].jjs * neurons + IFN_JJS_PER_INPUT * synapses,
        "SPL": CELLS["SPL"].jjs * spl,
        "DRO": CELLS["DRO"].jjs * n_dro,
    }
    kmax = int(taps.max(initial=0))
    path = CELLS["SPL"].delay * (1 + _depth(kmax)) + CELLS["SYN"].delay + CELLS["IFN"].delay
    return {
        "layer": lay.name,
        "switchings": {
            "delay_chain": sw_chain / n,
            "fanout": sw_tap / n,
            "clock": float(sw_clock),
            "neuron_out": sw_out / n,
        },
        "synaptic_events": delivered / n,
        "input_spikes": float(s.sum()) / n,
        "output_spikes": out_spikes / n,
        "synapses": synapses,
        "neurons": neurons,
        "dro": n_dro,
        "jj": jj,
        "path_ps": path,
        "steps": steps,
    }


def snn_counts(graph, tensors: dict[str, np.ndarray]) -> dict:
    """Every layer of a spiking graph; step period and latency from the cell delays."""
    from codesign.snn.graph import spiking_net

    net = spiking_net(graph)
    src = "input"
    layers = []
    for lay in net.layers:
        if src not in tensors:
            raise CodesignError(f"golden tensors: '{src}' missing (run `codesign golden`)")
        out = tensors[lay.name] if lay.spiking and lay.name in tensors else None
        layers.append(snn_layer_counts(lay, tensors[src], out))
        src = lay.name
    period = CELLS["DRO"].delay + CELLS["DRO"].setup + sum(r["path_ps"] for r in layers)
    return {
        "layers": layers,
        "step_period_ps": period,
        "latency_ps": period * net.steps,
        "design": "spiking: SYN per synapse, IFN per neuron, DRO delay lines clocked per step, "
        "splitter trees (codesign/energy/sfq_count.py)",
    }


def codenet_layer_counts(lay, tensors: dict[str, np.ndarray], limit: int | None = None) -> dict:
    """Rate-coded switchings of one CoDeNet layer (per frame), its JJs and its time."""
    from codesign.codenet import integer as I

    x = np.asarray(tensors[lay.src][:limit], dtype=np.int64)
    y = np.asarray(tensors[lay.name][:limit], dtype=np.int64)
    n, c, h, w = x.shape
    u = np.abs(x - int(lay.in_zp))  # unary pulses per input element
    nzw = lay.weight != 0
    if lay.kind == "pw":
        fan = np.count_nonzero(lay.weight, axis=0)  # (Cin,) synapses each input element feeds
        f_e = np.broadcast_to(fan[None, :, None, None], u.shape)
        synapses = int(nzw.sum()) * h * w
        fan_static = f_e[0]
    else:
        # which taps read each input element: count per (frame, tap) and pixel, then weight
        s_q = np.asarray(tensors[lay.s_src][:limit, 0], dtype=np.int64)
        f_e = np.zeros((n, c, h, w), dtype=np.int64)
        s = np.clip(np.asarray(I.scale_from_q(s_q), np.int64), I.S_LO, I.S_HI)
        from codesign.graph.ops.deformable import TAPS

        yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        for k, (ky, kx) in enumerate(TAPS):
            ty, tx = yy[None] + ky * s, xx[None] + kx * s
            inside = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
            cnt = np.zeros((n, h, w), dtype=np.int64)
            b, py, px = np.nonzero(inside)
            np.add.at(cnt, (b, ty[b, py, px], tx[b, py, px]), 1)
            f_e += nzw[:, k][None, :, None, None] * cnt[:, None]
        synapses = int(nzw.sum()) * h * w
        fan_static = np.broadcast_to(nzw.sum(axis=1)[:, None, None], (c, h, w))
    tree = SPL_SW * np.maximum(f_e - 1, 0)
    sw_fan = float((u * (tree + LEAF_SW * f_e)).sum())
    delivered = float((u * f_e).sum())
    out_pulses = float(np.abs(y - int(lay.out_zp)).sum())
    rails = 2 if int(lay.in_zp) > I.ACT_LO else 1  # signed inputs need the n rail too
    neurons = lay.out_channels * h * w
    spl = rails * int(np.maximum(fan_static - 1, 0).sum())
    jj = {
        "SYN": CELLS["SYN"].jjs * synapses,
        "IFN": CELLS["IFN"].jjs * neurons + IFN_JJS_PER_INPUT * rails * synapses,
        "SPL": CELLS["SPL"].jjs * spl,
    }
    umax = float(u.reshape(n, -1).max(axis=1).mean()) if u.size else 0.0
    fmax = int(np.asarray(fan_static).max(initial=0))
    time_ps = (
        umax * PULSE_PERIOD_PS
        + CELLS["SPL"].delay * _depth(fmax)
        + CELLS["SYN"].delay
        + CELLS["IFN"].delay
    )
    macs = int(lay.weight.size) * h * w
    return {
        "layer": lay.name,
        "switchings": {"fanout": sw_fan / n, "neuron_out": IFN_OUT_SW * out_pulses / n},
        "synaptic_events": delivered / n,
        "input_pulses": float(u.sum()) / n,
        "output_pulses": out_pulses / n,
        "macs": macs,
        "nonzero_input_macs": float(((u != 0) * f_e).sum()) / n,
        "synapses": synapses,
        "neurons": neurons,
        "jj": jj,
        "time_ps": time_ps,
    }


def codenet_counts(graph, tensors: dict[str, np.ndarray], limit: int | None = None) -> dict:
    from codesign.codenet.graph import codenet_net

    layers = [codenet_layer_counts(lay, tensors, limit) for lay in codenet_net(graph).layers]
    return {
        "layers": layers,
        "latency_ps": sum(r["time_ps"] for r in layers),
        "pulse_period_ps": PULSE_PERIOD_PS,
        "design": "rate coded |a - zp| pulses, unrolled: SYN per non-zero-weight MAC, IFN per "
        "output, splitter trees (codesign/energy/sfq_count.py)",
    }
