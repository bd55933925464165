"""Exact rounding and thresholds against qonnx's own rounding functions (an independent oracle)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from qonnx.custom_op.general.intquant import resolve_rounding_mode

from codesign.graph.rational import (
    float_threshold,
    int_threshold,
    level_boundary,
    round_exact,
)

MODES = ("ROUND", "HALF_UP", "HALF_DOWN", "UP", "DOWN", "CEIL", "FLOOR")
# multiples of 1/4 in [-4, 4]: every tie and every integer, all exact in float64
GRID = [Fraction(k, 4) for k in range(-16, 17)]


@pytest.mark.parametrize("mode", MODES)
def test_round_exact_matches_qonnx(mode):
    fn = resolve_rounding_mode(mode)
    for v in GRID:
        assert round_exact(v, mode) == int(fn(np.float64(v))), (mode, v)


@pytest.mark.parametrize("mode", MODES)
def test_level_boundary_is_where_rounding_steps(mode):
    for j in range(-3, 4):
        b, inclusive = level_boundary(j, mode)
        for v in GRID:
            reaches = round_exact(v, mode) >= j
            assert reaches == (v >= b if inclusive else v > b), (mode, j, v)


def test_int_threshold_both_signs():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a = Fraction(int(rng.integers(-50, 50)) or 1, int(rng.integers(1, 40)))
        c = Fraction(int(rng.integers(-100, 100)), int(rng.integers(1, 9)))
        b = Fraction(int(rng.integers(-30, 30)), 2)
        inc = bool(rng.integers(0, 2))
        sign, t = int_threshold(a, c, b, inc)
        for x in range(-60, 61):
            v = x * a + c
            want = v >= b if inc else v > b
            assert want == (sign * x >= t), (a, c, b, inc, x)


def test_float_threshold_exact_for_doubles():
    t = Fraction(1, 3)
    f = float_threshold(t, True)
    assert Fraction(f) >= t and Fraction(np.nextafter(f, -np.inf)) < t
    g = float_threshold(Fraction(1, 2), False)
    assert g > 0.5 and np.nextafter(g, -np.inf) == 0.5


def test_fast_threshold_count_equals_a_binary_search(monkeypatch):
    """count_at_or_below's guess-and-correct path against numpy's searchsorted, on inputs that sit
    exactly on, and one float step either side of, every threshold, plus +-inf and NaN."""
    from codesign.graph.ops import quantize

    rng = np.random.default_rng(0)
    cases = []
    for n, step in ((255, 1 / 255), (40, 0.5), (63, 3.0)):
        t = np.arange(n) * step - 0.37  # an input quantizer's table: evenly spaced ...
        some = rng.integers(0, n, 3)
        t[some] = np.nextafter(t[some], np.inf)  # ... up to the rounding of exact boundaries
        x = np.concatenate(
            [t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf), rng.uniform(-2, n * step, 500)]
        )
        x = np.concatenate([x, [-1e30, 1e30, np.inf, -np.inf, np.nan]])
        cases.append((t, x, np.searchsorted(t, x, side="right")))
    calls = []
    real = np.searchsorted
    monkeypatch.setattr(np, "searchsorted", lambda *a, **k: calls.append(1) or real(*a, **k))
    for t, x, want in cases:
        assert np.array_equal(quantize.count_at_or_below(t, x), want)
    assert not calls  # every table here took the guess-and-correct path
