"""ReRAM crossbar activity of im2col layers, counted from measured inputs (no device simulation).

The mapping is the one `codesign/sim/reram/mapping.py` uses for digits_mlp, generalised to any
MvmLayer (codesign/energy/im2col.py): |w| split into base-`levels` digits on G+/G- pairs,
digit k of output o in logical column k*O + o; inputs split into signed DAC pulses of
`dac_bits` (a 0/1 spike is one pulse of a 2-bit DAC: a spike-driven row driver, no multi-bit
DAC); the matrix cut into tile_rows x tile_cols tiles. For every input vector, pulse digit and
row block we count from the measured inputs:

- a read of each tile of the row block, unless every row of the block is 0 (event driven:
  with `skip_zero` a tile is read only when one of its rows carries a pulse);
- DAC conversions: the rows that carry a pulse (with skip_zero), else every row of the tile
  (what the simulator counts for dense inputs);
- ADC conversions: every column of every tile read (one ADC per column);
- crossbar read energy: sum over reads of sum_i V_i^2 t_read sum_j (G+_ij + G-_ij), with the
  ideal programmed conductances (G = g_min + |digit| dG), exactly what the simulator's tiles
  accumulate when its non-idealities are off.

ADC resolution: the configuration's adc_bits (or, with adc_bits None, the lossless resolution
of the worst tile, ceil(log2(max column sum |digit| x max code + 1)) + 1 bits, as the
simulator does). `adc_exact_measured` says whether every column output seen on the measured
inputs fits the ADC at a step of one unit (so the integer result is exact on this data);
`adc_exact_worst_case` whether it would for any input. With skip_zero off and an ideal
configuration the counts equal the simulator's (tests/energy/test_reram_count.py).
"""

from __future__ import annotations

import math

import numpy as np

from codesign.energy.im2col import MvmLayer
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.mapping import make_encoding


def _edges(n: int, step: int) -> list[int]:
    return list(range(0, n, step)) + [n]


def logical_digits(weight: np.ndarray, cfg: CrossbarConfig) -> tuple[np.ndarray, int]:
    """(R, O) integers -> (R, n_w * O) signed digits, and n_w (as mapping.MappedLayer)."""
    w = np.asarray(weight, dtype=np.int64)
    wmax = int(np.abs(w).max()) if w.size else 0
    enc = make_encoding(wmax, cfg.levels - 1, cfg.weight_slicing)
    if enc.scale != 1.0:
        raise ValueError("activity counts need lossless weight slicing (weight_slicing=True)")
    return np.concatenate([d for d in enc.encode(w.T, cfg.levels - 1)], axis=0).T, enc.n


def count_layer(layer: MvmLayer, cfg: CrossbarConfig, skip_zero: bool = True) -> dict:
    """Per-inference tile reads, DAC/ADC conversions and crossbar read energy of one layer."""
    digits, n_w = logical_digits(layer.weight, cfg)
    rows, cols = digits.shape
    xenc = make_encoding(layer.xmax, cfg.dac_max, cfg.input_slicing)
    if xenc.scale != 1.0:
        raise ValueError("activity counts need lossless input slicing (input_slicing=True)")
    r_edges, c_edges = _edges(rows, cfg.tile_rows), _edges(cols, cfg.tile_cols)
    absd = np.abs(digits)
    fdig = digits.astype(np.float64)
    # per tile: sum over its columns of G+ + G- for every row (uS), lossless ADC bits
    gsum = [
        [
            2 * cfg.g_min_us * (c1 - c0) + absd[r0:r1, c0:c1].sum(axis=1) * cfg.dg_us
            for c0, c1 in zip(c_edges[:-1], c_edges[1:], strict=True)
        ]
        for r0, r1 in zip(r_edges[:-1], r_edges[1:], strict=True)
    ]
    code_max = min(cfg.dac_max, layer.xmax)
    n_rb, n_cb = len(r_edges) - 1, len(c_edges) - 1
    worst = max(
        _lossless(absd, r_edges, c_edges, r, c, code_max) for r in range(n_rb) for c in range(n_cb)
    )
    adc_bits = cfg.adc_bits if cfg.adc_bits is not None else worst
    reads = np.zeros((n_rb, n_cb))
    dac = np.zeros((n_rb, n_cb))
    peak = 0  # largest |column output| of any read (integer units)
    e_units = 0.0  # sum over reads of code^2 * G_row (uS)
    vectors = 0
    for x in layer.vectors():
        codes = xenc.encode(x.astype(np.int64), cfg.dac_max)
        vectors += x.shape[0] * x.shape[1]
        for k_codes in codes:
            for r, (r0, r1) in enumerate(zip(r_edges[:-1], r_edges[1:], strict=True)):
                blk = k_codes[:, :, r0:r1].astype(np.float64)  # exact: |values| << 2**53
                nz = blk != 0
                if skip_zero:
                    n_read = int(nz.any(axis=2).sum())
                    n_dac = int(nz.sum())
                else:
                    n_read = blk.shape[0] * blk.shape[1]
                    n_dac = n_read * (r1 - r0)
                sq = np.einsum("npr,npr->r", blk, blk)
                for c, (c0, c1) in enumerate(zip(c_edges[:-1], c_edges[1:], strict=True)):
                    reads[r, c] += n_read
                    dac[r, c] += n_dac
                    e_units += float(sq @ gsum[r][c])
                    if blk.size:
                        peak = max(peak, int(np.abs(blk @ fdig[r0:r1, c0:c1]).max()))
    n = float(layer.samples)
    adc = reads * np.diff(c_edges)[None, :]
    full_scale = 2 ** (adc_bits - 1) - 1
    v2 = (cfg.v_read / cfg.dac_max) ** 2
    return {
        "layer": layer.name,
        "rows": rows,
        "cols": cols,
        "weight_digits": n_w,
        "input_pulses": xenc.n,
        "tiles": n_rb * n_cb,
        "devices": int(2 * rows * cols),
        "vectors": vectors / n,
        "read_slots": vectors / n * xenc.n,
        "crossbar_reads": float(reads.sum()) / n,
        "dac_conversions": float(dac.sum()) / n,
        "adc_conversions": float(adc.sum()) / n,
        "adc_bits": int(adc_bits),
        "adc_peak": peak,
        "adc_exact_measured": bool(peak <= full_scale),
        "adc_exact_worst_case": bool(worst <= adc_bits),
        "crossbar_read_j": e_units * v2 * 1e-6 * cfg.t_read_s / n,
        "neurons": layer.neurons * layer.per_inference,
        "skip_zero": skip_zero,
    }


def _lossless(absd, r_edges, c_edges, r, c, code_max) -> int:
    blk = absd[r_edges[r] : r_edges[r + 1], c_edges[c] : c_edges[c + 1]]
    bound = int(blk.sum(axis=0).max(initial=0)) * code_max
    return int(math.ceil(math.log2(bound + 1))) + 1 if bound else 2
