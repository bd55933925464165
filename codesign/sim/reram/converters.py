"""DAC and ADC: the two places where the analog array meets integers.

Both are signed and symmetric (aihwkit convention): b bits give codes -(2**(b-1)-1) ..
2**(b-1)-1. The ADC rounds half to even (numpy rint), saturates at full scale, and returns
code * step in the same units as its input.
"""

from __future__ import annotations

import numpy as np


def dac_codes(x: np.ndarray, bits: int, full_scale: float) -> np.ndarray:
    """Real inputs in [-full_scale, full_scale] -> integer DAC codes (as floats)."""
    q = 2 ** (bits - 1) - 1
    return np.clip(np.rint(np.asarray(x) * (q / full_scale)), -q, q)


def adc_step(bound: np.ndarray | float, bits: int) -> np.ndarray:
    """Quantisation step of a b-bit signed ADC whose full scale is +-bound."""
    return np.asarray(bound, dtype=np.float64) / (2 ** (bits - 1) - 1)


def adc_convert(y: np.ndarray, bits: int | None, bound: np.ndarray | float) -> np.ndarray:
    """Digitise column outputs y (any units) with full scale +-bound (per column or scalar).

    bits=None is the lossless converter of the ideal setting: a step of exactly one unit,
    no saturation (the integer units of the mapping make that exact).
    """
    if bits is None:
        return np.rint(y)
    q = 2 ** (bits - 1) - 1
    step = adc_step(bound, bits)
    return np.clip(np.rint(y / step), -q, q) * step
