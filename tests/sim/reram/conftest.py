"""Small IntGraphs with realistic requantisation for the ReRAM tests (digits_mlp-like)."""

from __future__ import annotations

import numpy as np
import pytest

from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant


def _requant_for(acc: np.ndarray, hi: int, rng: np.random.Generator) -> tuple:
    """Per-channel multiplier < 2**16 and shift so that typical |acc| lands near hi/2."""
    spread = np.maximum(np.abs(acc).mean(axis=0) * 2, 1.0)
    target = (hi / 2) / spread  # multiplier / 2**shift
    shift = np.clip(np.floor(np.log2((2**16 - 1) / target)), 10, 24).astype(np.int64)
    mult = np.clip(np.rint(target * 2.0**shift), 1, 2**16 - 1).astype(np.int64)
    return mult, shift


def make_graph(
    seed: int = 0,
    sizes: tuple[int, ...] = (64, 64, 32, 10),
    wmax: int = 256,
    post: bool = True,
    rounding: str = "half_even",
) -> IntGraph:
    """Random integer MLP: uint8 inputs, ReLU uint8 hidden layers, int8 signed last layer.

    post=True draws weights from a POST-like codebook {0, +-2^k} up to +-wmax (power-of-two
    magnitudes as with base b = 2); otherwise uniform integers in [-wmax, wmax].
    """
    rng = np.random.default_rng(seed)
    in_q = QuantSpec(8, False, -8)
    x = rng.integers(0, 256, size=(256, sizes[0]))
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        if post:
            levels = np.array([0] + [2**k for k in range(int(np.log2(wmax)) + 1)])
            idx = rng.integers(0, len(levels), size=(n_out, n_in))
            w = levels[idx] * rng.choice([-1, 1], size=(n_out, n_in))
        else:
            w = rng.integers(-wmax, wmax + 1, size=(n_out, n_in))
        acc = x @ w.T
        bias = rng.integers(-2000, 2000, size=n_out)
        out_q = QuantSpec(8, True, -4) if last else QuantSpec(8, False, -4)
        mult, shift = _requant_for(acc + bias, out_q.hi, rng)
        rq = Requant(mult, shift, lo=out_q.lo if last else 0, hi=out_q.hi, rounding=rounding)
        lay = DenseLayer(
            name=f"fc{i}",
            weight=w.astype(np.int64),
            bias=bias.astype(np.int64),
            requant=rq,
            in_q=in_q,
            out_q=out_q,
            relu=not last,
            quantizer="post" if post else "uniform",
            weight_bits=4 if post else int(wmax).bit_length() + 1,
        )
        layers.append(lay)
        from codesign.ir.golden import dense

        x = dense(lay, x)
        in_q = out_q
    return IntGraph(name=f"rand{seed}", input_q=QuantSpec(8, False, -8), layers=layers)


def make_inputs(graph: IntGraph, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(
        graph.input_q.lo, graph.input_q.hi + 1, size=(n, graph.layers[0].in_features)
    )


@pytest.fixture
def graph() -> IntGraph:
    return make_graph(0)
