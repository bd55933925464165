"""The Conv op against PyTorch's float64 convolution (an independent oracle): strides, pads with
per-channel pad values, dilations, groups (depthwise too), 1-D and 2-D, and inputs large enough
that the op's exact-type choice moves from float32 to float64 to int64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from codesign.graph.execute import run_op

CASES = [
    # (nd, batch, c_in, c_out, group, kernel, stride, dilation, pads, size, x_max)
    (2, 3, 4, 6, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (7, 6), 7),
    (2, 2, 6, 4, 2, (3, 2), (2, 1), (1, 2), (0, 2, 1, 0), (9, 8), 100),
    (2, 2, 5, 5, 5, (3, 3), (1, 2), (2, 1), (2, 1, 2, 1), (8, 9), 3),  # depthwise
    (2, 9, 3, 8, 1, (5, 5), (2, 2), (1, 1), (0, 0, 0, 0), (12, 12), 2**20),  # float64 path
    (2, 2, 2, 2, 1, (2, 2), (1, 1), (1, 1), (0, 0, 0, 0), (4, 4), 2**40),  # int64 path
    (1, 4, 3, 6, 3, (4,), (3,), (2,), (3, 1), (17,), 15),
    (2, 70, 8, 4, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (40, 40), 3),  # several blocks
]


def _reference(x, w, pv, stride, dilation, pads, group):
    nd = w.ndim - 2
    lo, hi = pads[:nd], pads[nd:]
    shape = [x.shape[0], x.shape[1]] + [x.shape[2 + i] + lo[i] + hi[i] for i in range(nd)]
    xp = np.empty(shape, dtype=np.float64)
    xp[...] = pv.reshape((1, -1) + (1,) * nd)  # each channel padded with its own value
    xp[(slice(None), slice(None), *(slice(lo[i], lo[i] + x.shape[2 + i]) for i in range(nd)))] = x
    conv = F.conv1d if nd == 1 else F.conv2d
    y = conv(
        torch.from_numpy(xp),
        torch.from_numpy(w.astype(np.float64)),
        None,
        stride,
        0,
        dilation,
        group,
    )
    return y.numpy()


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_conv_matches_pytorch(case):
    nd, n, cin, cout, g, k, s, d, pads, size, x_max = case
    rng = np.random.default_rng(len(CASES) + sum(size))
    x = rng.integers(-x_max, x_max + 1, (n, cin, *size), dtype=np.int64)
    w = rng.integers(-3, 4, (cout, cin // g, *k), dtype=np.int64)
    pv = rng.integers(-x_max, x_max + 1, cin, dtype=np.int64)
    attrs = {"strides": list(s), "dilations": list(d), "pads": list(pads), "group": g}
    (y,) = run_op("Conv", [x], attrs, {"weight": w, "pad_value": pv})
    if x_max >= 2**40:  # beyond float64's exact integers: Python integers as the oracle
        ref = _python_reference(x, w, pv)
    else:
        ref = _reference(x.astype(np.float64), w, pv, s, d, pads, g)
    assert y.dtype == np.int64 and y.shape == ref.shape
    bad = np.argwhere(y != ref)
    assert not len(bad), f"first difference at {tuple(bad[0])}: {y[tuple(bad[0])]} vs ref"


def _python_reference(x, w, pv):
    """Stride 1, no padding or dilation, group 1: sums of Python integers (no wrap, no rounding)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.empty((n, o, h - kh + 1, wd - kw + 1), dtype=object)
    for idx in np.ndindex(out.shape):
        b, oc, i, j = idx
        out[idx] = sum(
            int(x[b, ci, i + u, j + v]) * int(w[oc, ci, u, v])
            for ci in range(c)
            for u in range(kh)
            for v in range(kw)
        )
    return out
