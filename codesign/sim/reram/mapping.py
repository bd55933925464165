"""Map an IntGraph onto crossbar tiles and run it; digital requantisation after the ADCs.

Bit-slicing choice (what the hardware stores and drives):
- weights: |w| is split into base-`levels` digits (9 levels -> 3 digits for |w| <= 256, the
  POST W4 codebook range); the sign selects the G+ or G- device of each pair. Digit k of
  output o sits in logical column k*out + o. With weight_slicing off, w is scaled onto one
  pair (w * (levels-1)/max|w|, rounded): lossy unless max|w| <= levels-1.
- inputs: |x| is split into base-2**(dac_bits-1) digits, one DAC pulse each, sign = polarity
  (7-bit DAC: 6 bits per pulse, an 8-bit activation takes 2 pulses; dac_bits=2 is
  bit-serial). With input_slicing off, x is scaled onto one pulse (lossy if |x| > dac_max).
- a layer larger than a tile is cut into tile_rows x tile_cols blocks; the ADC outputs of
  row blocks, pulses and weight digits are shifted and added in the digital periphery
  (float64, exact for integers), rounded to the int64 accumulator, then bias + the digital
  requantisation (`periphery_requant`, written the way the periphery computes it, not by calling
  the golden model: the ideal-crossbar check shares no arithmetic with what it checks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.ir.graph import DenseLayer, IntGraph, Requant
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.tile import Tile


def n_digits(max_value: int, base: int) -> int:
    """Digits needed to write every integer 0..max_value in `base` (at least 1)."""
    n, cap = 1, base
    while cap <= max_value:
        n, cap = n + 1, cap * base
    return n


def split_digits(mag: np.ndarray, base: int, n: int) -> list[np.ndarray]:
    """Least significant first: mag = sum_k digits[k] * base**k, 0 <= digit < base."""
    out, rest = [], np.asarray(mag, dtype=np.int64)
    for _ in range(n):
        out.append(rest % base)
        rest = rest // base
    return out


@dataclass
class Encoding:
    """How a signed integer tensor becomes digits: value = scale * sum_k base**k * digit_k."""

    base: int
    n: int
    scale: float  # 1.0 when lossless

    def encode(self, v: np.ndarray, dmax: int) -> list[np.ndarray]:
        v = np.asarray(v, dtype=np.int64)
        if self.scale == 1.0:
            sign = np.sign(v)
            return [sign * d for d in split_digits(np.abs(v), self.base, self.n)]
        return [np.clip(np.rint(v / self.scale), -dmax, dmax).astype(np.int64)]

    @property
    def weights(self) -> np.ndarray:
        return self.scale * np.asarray([float(self.base) ** k for k in range(self.n)])


def make_encoding(vmax: int, dmax: int, slicing: bool) -> Encoding:
    """Digits of max magnitude dmax for values up to vmax (sliced, or scaled onto one digit)."""
    if vmax <= dmax:
        return Encoding(base=dmax + 1, n=1, scale=1.0)
    if slicing:
        return Encoding(base=dmax + 1, n=n_digits(vmax, dmax + 1), scale=1.0)
    return Encoding(base=dmax + 1, n=1, scale=vmax / dmax)


@dataclass
class MappedLayer:
    """One DenseLayer on a grid of tiles."""

    layer: DenseLayer
    wenc: Encoding
    xenc: Encoding
    row_edges: list[int]
    col_edges: list[int]
    wdmax: int  # largest weight digit (levels - 1)
    xdmax: int  # largest DAC code (dac_max)
    tiles: list[list[Tile]] = field(default_factory=list)  # [row block][col block]

    @property
    def n_tiles(self) -> int:
        return sum(len(r) for r in self.tiles)

    def logical_digits(self) -> np.ndarray:
        """(in, n_w * out) signed digit matrix; column k*out + o holds digit k of output o."""
        digits = self.wenc.encode(self.layer.weight, self.wdmax)
        return np.concatenate([d.T for d in digits], axis=1)

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """Integer accumulators W @ x (no bias) computed on the tiles: (batch, out) int64."""
        lay = self.layer
        b = x.shape[0]
        codes = np.concatenate(self.xenc.encode(x, self.xdmax), axis=0)  # (n_x*b, in)
        n_cols = self.col_edges[-1]
        y = np.zeros((codes.shape[0], n_cols), dtype=np.float64)
        for r, (r0, r1) in enumerate(zip(self.row_edges[:-1], self.row_edges[1:], strict=True)):
            block = codes[:, r0:r1]
            for c, (c0, c1) in enumerate(zip(self.col_edges[:-1], self.col_edges[1:], strict=True)):
                y[:, c0:c1] += self.tiles[r][c].mvm(block)
        y = y.reshape(self.xenc.n, b, self.wenc.n, lay.out_features)
        acc = np.einsum("jbko,j,k->bo", y, self.xenc.weights, self.wenc.weights)
        return np.rint(acc).astype(np.int64)


@dataclass
class MappedGraph:
    """An IntGraph programmed onto crossbars; `run` mirrors `codesign.ir.chain.run`."""

    graph: IntGraph
    config: CrossbarConfig
    layers: list[MappedLayer]

    def run(self, x_int: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(x_int, dtype=np.int64)
        tensors = {"input": x}
        for ml in self.layers:
            lay = ml.layer
            if x.ndim != 2 or x.shape[1] != lay.in_features:
                raise CodesignError(
                    f"layer '{lay.name}' expects {lay.in_features} inputs, got {tuple(x.shape)}"
                )
            if x.size and (x.min() < lay.in_q.lo or x.max() > lay.in_q.hi):
                raise CodesignError(
                    f"layer '{lay.name}' input outside its {lay.in_q.bits}-bit range"
                )
            acc = ml.accumulate(x) + lay.bias
            x = periphery_requant(acc, lay.requant)
            tensors[lay.name] = x
        return tensors

    def tiles(self) -> list[Tile]:
        return [t for ml in self.layers for row in ml.tiles for t in row]


def periphery_requant(acc: np.ndarray, rq: Requant) -> np.ndarray:
    """clamp(round(acc * m / 2**s)) as a shift-and-add periphery computes it: one rounding
    constant, one arithmetic shift. half_up adds 2**(s-1); half_even adds 2**(s-1) - 1 plus the
    bit that becomes the result's LSB before rounding (a tie then lands on the even integer)."""
    prod = np.asarray(acc, dtype=np.int64) * rq.multiplier
    s = np.broadcast_to(np.asarray(rq.shift, dtype=np.int64), prod.shape)
    half = np.left_shift(np.int64(1), np.maximum(s - 1, 0))
    if rq.rounding == "half_up":
        const = half
    else:
        const = half - 1 + (np.right_shift(prod, s) & 1)
    const = np.where(s > 0, const, 0)
    return np.clip(np.right_shift(prod + const, s), rq.lo, rq.hi)


def _edges(n: int, step: int) -> list[int]:
    return list(range(0, n, step)) + [n]


def map_graph(
    graph: IntGraph, config: CrossbarConfig, calib_x: np.ndarray | None = None
) -> MappedGraph:
    """Program every DenseLayer of `graph` onto tiles (seeded by config.seed).

    calib_x: integer network inputs used to set calibrated ADC ranges (the ideal column
    sums seen on them, per ADC); without them a "calibrated" range falls back to "max".
    """
    cfg = config
    rng = np.random.default_rng(cfg.seed)
    acts = chain.run(graph, calib_x) if calib_x is not None else None
    inputs = ["input"] + [lay.name for lay in graph.layers[:-1]]
    mapped = []
    for lay, src in zip(graph.layers, inputs, strict=True):
        wmax = int(np.abs(lay.weight).max()) if lay.weight.size else 0
        xmax = max(abs(lay.in_q.lo), abs(lay.in_q.hi))
        wenc = make_encoding(wmax, cfg.levels - 1, cfg.weight_slicing)
        xenc = make_encoding(xmax, cfg.dac_max, cfg.input_slicing)
        ml = MappedLayer(
            layer=lay,
            wenc=wenc,
            xenc=xenc,
            row_edges=_edges(lay.in_features, cfg.tile_rows),
            col_edges=_edges(wenc.n * lay.out_features, cfg.tile_cols),
            wdmax=cfg.levels - 1,
            xdmax=cfg.dac_max,
        )
        digits = ml.logical_digits()
        calib_codes = None
        if acts is not None and cfg.adc_range == "calibrated":
            calib_codes = np.concatenate(xenc.encode(acts[src], cfg.dac_max), axis=0)
        for r0, r1 in zip(ml.row_edges[:-1], ml.row_edges[1:], strict=True):
            row = []
            for c0, c1 in zip(ml.col_edges[:-1], ml.col_edges[1:], strict=True):
                block = digits[r0:r1, c0:c1]
                bound = None
                if calib_codes is not None:
                    bound = np.abs(calib_codes[:, r0:r1] @ block).max(axis=0)
                name = f"layer '{lay.name}' tile [{r0}:{r1}, {c0}:{c1}]"
                row.append(Tile(block, cfg, rng, adc_bound=bound, name=name))
            ml.tiles.append(row)
        mapped.append(ml)
    return MappedGraph(graph=graph, config=cfg, layers=mapped)


def compare(golden_t: dict[str, np.ndarray], reram_t: dict[str, np.ndarray]) -> list[dict]:
    """Layer-by-layer distance: mismatches, max |error|, first mismatch (index, both values)."""
    rows = []
    for name, ref in golden_t.items():
        if name == "input":
            continue
        got = reram_t[name]
        diff = got.astype(np.int64) - ref.astype(np.int64)
        bad = np.argwhere(diff != 0)
        row = {
            "layer": name,
            "elements": int(ref.size),
            "mismatches": int(len(bad)),
            "max_abs_err": int(np.abs(diff).max()) if diff.size else 0,
            "mean_abs_err": float(np.abs(diff).mean()) if diff.size else 0.0,
        }
        if len(bad):
            idx = tuple(int(i) for i in bad[0])
            row["first"] = {"index": list(idx), "golden": int(ref[idx]), "reram": int(got[idx])}
        rows.append(row)
    return rows


def worst_case_adc_bits(graph: IntGraph, config: CrossbarConfig) -> int:
    """Smallest ADC resolution that is lossless for every tile under range 'max'."""
    lmax, dmax = config.levels - 1, config.dac_max
    worst = max(min(lay.in_features, config.tile_rows) for lay in graph.layers) * lmax * dmax
    return int(math.ceil(math.log2(worst + 1))) + 1
