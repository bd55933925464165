"""Random but realistic IntGraphs for tests and benchmarks when no trained model is at hand.

Weights come from a POST-like codebook (base sqrt(2) or 2) or a uniform 4-bit range; the
per-channel requant multiplier (< 2**16) and shift (10..24) are chosen so the 99th percentile of
|accumulator| on random inputs lands near the top of the output range, as a calibrated model's
would, so outputs are neither all zero nor all saturated.
"""

from __future__ import annotations

import numpy as np

from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant


def post_codebook(base: float = 2**0.5, levels: int = 7, frac_bits: int = 8) -> np.ndarray:
    """{0} U {+-round(2**frac_bits * base**-k)}, k < levels: 2*levels + 1 integer weights."""
    mags = [int(round(2**frac_bits * base ** (-k))) for k in range(levels)]
    return np.array(sorted([-m for m in mags] + [0] + mags), dtype=np.int64)


def _requant(acc: np.ndarray, lo: int, hi: int, rng: np.random.Generator, rounding: str):
    p99 = np.maximum(np.percentile(np.abs(acc), 99, axis=0), 1.0)
    scale = hi / p99 * rng.uniform(0.7, 1.3, size=p99.shape)
    shift = np.clip(np.floor(np.log2((2**16 - 1) / scale)), 10, 24).astype(np.int64)
    mult = np.clip(np.round(scale * 2.0**shift), 1, 2**16 - 1).astype(np.int64)
    return Requant(multiplier=mult, shift=shift, lo=lo, hi=hi, rounding=rounding)


def synthetic_mlp(
    sizes: tuple[int, ...] = (64, 64, 32, 10),
    quantizer: str = "post",
    seed: int = 0,
    rounding: str = "half_even",
    signed_input: bool = False,
    name: str = "synth_mlp",
) -> IntGraph:
    """An MLP IntGraph: 8-bit activations, ReLU + uint8 between layers, int8 logits last.

    quantizer: "post" (4-bit indices into a base-sqrt(2) codebook), "post2" (base 2: the
    shift-only path) or "uniform" (4-bit signed integer weights).
    """
    rng = np.random.default_rng(seed)
    in_q = QuantSpec(8, signed_input, -7)
    x = rng.integers(in_q.lo, in_q.hi + 1, size=(256, sizes[0]))
    layers = []
    for i, (n, m) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        out_q = QuantSpec(8, last, -5 + i)
        if quantizer in ("post", "post2"):
            cb = post_codebook(2**0.5 if quantizer == "post" else 2.0)
            idx = rng.integers(0, len(cb), size=(m, n))
            w, codebook, indices, wbits = cb[idx], cb, idx, 4
        else:
            w, codebook, indices, wbits = rng.integers(-7, 8, size=(m, n)), None, None, 4
        bias = rng.integers(-(2**10), 2**10, size=m) * (8 if quantizer != "uniform" else 1)
        acc = x @ w.T + bias
        lo, hi = (out_q.lo, out_q.hi)
        rq = _requant(acc, lo, hi, rng, rounding)
        lay = DenseLayer(
            name=f"fc{i}",
            weight=w.astype(np.int64),
            bias=bias.astype(np.int64),
            requant=rq,
            in_q=in_q,
            out_q=out_q,
            relu=not last,
            quantizer="post" if codebook is not None else "uniform",
            weight_bits=wbits,
            codebook=codebook,
            indices=indices,
            attrs={"base": 2**0.5 if quantizer == "post" else 2.0} if codebook is not None else {},
        )
        layers.append(lay)
        from codesign.ir.golden import dense

        x = dense(lay, x)
        in_q = out_q
    return IntGraph(name=name, input_q=QuantSpec(8, signed_input, -7), layers=layers)


def synthetic_inputs(graph: IntGraph, n: int, seed: int = 1) -> np.ndarray:
    """Random integer inputs over the graph's full input range (extremes included)."""
    rng = np.random.default_rng(seed)
    q = graph.input_q
    x = rng.integers(q.lo, q.hi + 1, size=(n, graph.layers[0].in_features))
    if n >= 2:
        x[0], x[1] = q.hi, q.lo
    return x.astype(np.int64)
