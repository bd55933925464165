"""Layers of the spiking and CoDeNet zoo models as im2col matrix-vector products.

A crossbar computes y = x W for a stored matrix W (rows = inputs, columns = outputs). Every
layer the ReRAM and SFQ activity counters price is written here in that form, with its input
vectors taken from the golden model's tensors:

- SNN dense layer with integer delays (delay_snn): one row per (input neuron i, delay d)
  that some synapse uses, W[(i, d), o] = w[o, i] if delay[o, i] == d else 0; the input vector
  of time step t is x[(i, d)] = s_in[t - d, i] (0 before the start), i.e. the spike replayed
  d steps later by a per-input digital delay line. One vector per time step.
- SNN hdconv layer (hd_snn): rows (c, d, u, v) of the (in, delay, kh, kw) kernel,
  W[(c, d, u, v), o] = w[o, c, d, u, v]; one vector per (time step, output pixel), holding the
  spikes of its receptive field ('same' zero padding in space, as the graph's Delay op).
- CoDeNet 1x1 conv: W = weight.T; one vector per pixel, x = a - zp (the activation minus its
  zero point, so a real zero drives nothing; the zp * sum(w) term is a per-output constant the
  digital periphery adds back, like a bias).
- CoDeNet square-deformable depthwise 3x3: rows (c, tap), block diagonal W[(c, k), c] =
  w[c, k]; one vector per pixel holding the 9 taps each channel's rounded scale s selects
  (the address generation is digital; out-of-image taps read the zero point -> 0).

Rows whose weights are all zero are dropped (no device pair is programmed for them). Every
builder is checked against the golden accumulators in tests/energy/test_im2col.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from codesign.errors import CodesignError

CHUNK = 32  # samples per block of input vectors (bounds memory: hd_snn ~ 7.7 M entries)


@dataclass
class MvmLayer:
    """One layer as rows x outputs: `weight` (R, O) integers; `vectors()` yields blocks of
    input vectors (n, P, R) (P vectors per inference: time steps x output pixels)."""

    name: str
    weight: np.ndarray
    vectors: Callable[[], Iterator[np.ndarray]]
    samples: int
    per_inference: int  # P: input vectors per inference
    xmax: int  # largest |input| the layer can see (sets the DAC pulses)
    neurons: int  # output neurons (or output values) per vector
    kind: str = ""

    @property
    def rows(self) -> int:
        return int(self.weight.shape[0])


def _keep_rows(w: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(w).sum(axis=1))


def snn_layer(lay, spikes_in: np.ndarray) -> MvmLayer:
    """A SpikingLayer (codesign/snn/graph.py) and its input spikes (N, T, *in_shape)."""
    s = np.asarray(spikes_in)
    n, steps = s.shape[:2]
    if lay.kind == "dense":  # a crossbar row per (input, delay) that some synapse uses
        pairs = [(int(i), int(d)) for i, d in zip(*np.nonzero(lay.weight.any(axis=0)), strict=True)]
        w = (
            np.stack([lay.weight[:, i, d] for i, d in pairs])
            if pairs
            else np.zeros((0, lay.out_channels), np.int64)
        )
        src = np.array([i for i, _ in pairs], dtype=np.int64)
        dly = np.array([d for _, d in pairs], dtype=np.int64)
        if s.shape[2:] != (lay.in_channels,):
            raise CodesignError(f"layer '{lay.name}': spikes {s.shape[2:]} != ({lay.in_channels},)")

        def vectors() -> Iterator[np.ndarray]:
            for a in range(0, n, CHUNK):
                blk = s[a : a + CHUNK].astype(np.int8)
                x = np.zeros((blk.shape[0], steps, len(pairs)), dtype=np.int8)
                for d in np.unique(dly):
                    cols = np.flatnonzero(dly == d)
                    if d < steps:
                        x[:, d:, cols] = blk[:, : steps - d][:, :, src[cols]]
                yield x

        return MvmLayer(lay.name, w, vectors, n, steps, 1, lay.out_channels, "snn_dense")
    # hdconv: weight (O, C, D, kh, kw)
    o_ch, c_ch, depth, kh, kw = lay.weight.shape
    if s.ndim != 5 or s.shape[2] != c_ch:
        raise CodesignError(f"layer '{lay.name}': spikes {s.shape[2:]} not ({c_ch}, H, W)")
    h, wd = s.shape[3:]
    w_full = lay.weight.reshape(o_ch, -1).T  # rows (c, d, u, v)
    keep = _keep_rows(w_full)

    def vectors() -> Iterator[np.ndarray]:
        for a in range(0, n, CHUNK):
            blk = s[a : a + CHUNK].astype(np.int8)
            pad = ((0, 0), (depth - 1, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2))
            win = sliding_window_view(np.pad(blk, pad), (depth, kh, kw), axis=(1, 3, 4))
            # (b, T, C, H, W, D', kh, kw); window index D' = depth-1-d
            win = win[:, :, :, :, :, ::-1]
            x = win.transpose(0, 1, 3, 4, 2, 5, 6, 7).reshape(blk.shape[0], steps * h * wd, -1)
            yield np.ascontiguousarray(x[:, :, keep])

    return MvmLayer(lay.name, w_full[keep], vectors, n, steps * h * wd, 1, o_ch, "snn_hdconv")


def snn_layers(graph, tensors: dict[str, np.ndarray]) -> list[MvmLayer]:
    """Every layer of a spiking graph (codesign/snn/graph.py) with its golden input spikes."""
    from codesign.snn.graph import spiking_net

    src = "input"
    out = []
    for lay in spiking_net(graph).layers:
        if src not in tensors:
            raise CodesignError(f"golden tensors: '{src}' missing (run `codesign golden`)")
        out.append(snn_layer(lay, tensors[src]))
        src = lay.name
    return out


def _zp_range(zp: int) -> int:
    from codesign.codenet import integer as I

    return int(max(I.ACT_HI - zp, zp - I.ACT_LO))


def codenet_layer(lay, tensors: dict[str, np.ndarray], limit: int | None = None) -> MvmLayer:
    """A CoDeNet layer (codesign/codenet/graph.py CLayer) with its golden input (minus the
    zero point)."""
    from codesign.codenet import integer as I

    x = np.asarray(tensors[lay.src][:limit], dtype=np.int64)
    n, c, h, wd = x.shape
    zp = int(lay.in_zp)
    if lay.kind == "pw":
        w = lay.weight.T.astype(np.int64)  # (Cin, Cout)

        def vectors() -> Iterator[np.ndarray]:
            for a in range(0, n, CHUNK):
                blk = x[a : a + CHUNK] - zp
                yield blk.transpose(0, 2, 3, 1).reshape(blk.shape[0], h * wd, c)

        return MvmLayer(lay.name, w, vectors, n, h * wd, _zp_range(zp), lay.out_channels, "pw")
    w = np.zeros((c * 9, c), dtype=np.int64)
    for ch in range(c):
        w[ch * 9 : ch * 9 + 9, ch] = lay.weight[ch]
    keep = _keep_rows(w)
    s_q = np.asarray(tensors[lay.s_src][:limit, 0], dtype=np.int64)

    def vectors() -> Iterator[np.ndarray]:
        for a in range(0, n, CHUNK):
            taps = I.deform_taps(x[a : a + CHUNK], I.scale_from_q(s_q[a : a + CHUNK]), I.ZP) - zp
            yield taps.reshape(taps.shape[0], h * wd, c * 9)[:, :, keep]

    return MvmLayer(lay.name, w[keep], vectors, n, h * wd, _zp_range(zp), c, "dw")


def codenet_layers(graph, tensors: dict[str, np.ndarray], limit: int | None = None):
    """Every layer of a CoDeNet graph with its golden inputs (first `limit` frames)."""
    from codesign.codenet.graph import codenet_net

    graph = codenet_net(graph)
    for lay in graph.layers:
        for k in [lay.src] + ([lay.s_src] if lay.s_src else []):
            if k not in tensors:
                raise CodesignError(f"golden tensors: '{k}' missing (run `codesign golden`)")
    return [codenet_layer(lay, tensors, limit) for lay in graph.layers]


def dense_layers(graph, tensors: dict[str, np.ndarray]) -> list[MvmLayer]:
    """An IntGraph's DenseLayers (one vector per inference) with their golden inputs; the
    ReRAM simulator maps exactly these, so the counters can be checked against it."""
    src = "input"
    out = []
    for lay in graph.layers:
        x = np.asarray(tensors[src], dtype=np.int64).reshape(len(tensors[src]), 1, -1)

        def vectors(x=x) -> Iterator[np.ndarray]:
            for a in range(0, len(x), CHUNK):
                yield x[a : a + CHUNK]

        xmax = max(abs(lay.in_q.lo), abs(lay.in_q.hi))
        out.append(
            MvmLayer(lay.name, lay.weight.T, vectors, len(x), 1, xmax, lay.out_features, "dense")
        )
        src = lay.name
    return out
