"""DCLS position -> integer delay, pinned against Dcls1d itself (REFERENCES.md: K = 25, P = 3,
spike at t = 2 -> t = 11; P = 0 -> 14; P = -3 -> 17; T = 10: the spike leaves the window)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from snn_testgraphs import one_layer
from torch.nn import functional as F

from codesign.layers.delay import DelayLinear, position_to_delay
from codesign.snn import golden
from codesign.snn.train import sigma_at


def dcls_response(p: float, steps: int, k: int = 25, sig: float = 0.05) -> torch.Tensor:
    from DCLS.construct.modules import Dcls1d

    m = Dcls1d(1, 1, kernel_count=1, dilated_kernel_size=k, groups=1, bias=False, version="gauss")
    with torch.no_grad():
        m.weight.fill_(1.0)
        m.P.fill_(p)
        m.SIG.fill_(sig)
    x = torch.zeros(1, 1, steps)
    x[0, 0, 2] = 1.0
    return m(F.pad(x, (k - 1, 0)))[0, 0].detach()


@pytest.mark.parametrize("p, t_out", [(3, 11), (0, 14), (-3, 17)])
def test_dcls1d_convention_and_our_delay(p, t_out):
    y = dcls_response(p, 40)
    assert int(y.argmax()) == t_out and float(y.max()) > 0.9
    d = int(position_to_delay(torch.tensor(p), 25))
    assert 2 + d == t_out  # d = (K - 1)/2 - P
    lay = DelayLinear(1, 1, 25)
    with torch.no_grad():
        lay.dcls.P.fill_(p)
    lay.rounded = True
    with torch.no_grad():
        lay.dcls.weight.fill_(1.0)
    x = torch.zeros(1, 40, 1)
    x[0, 2, 0] = 1
    assert int(lay(x)[0, :, 0].argmax()) == t_out
    g = one_layer([[7]], [[d]], steps=40)
    cur = golden.synaptic_current(g, x.numpy().astype(np.int64))
    assert cur[0, :, 0].tolist() == [7 if t == t_out else 0 for t in range(40)]


def test_dcls1d_spike_leaves_short_window():
    assert float(dcls_response(3, 10).abs().max()) < 1e-3


def test_gauss_matches_rounded_at_small_sigma():
    torch.manual_seed(0)
    lay = DelayLinear(4, 3, 25)
    lay.set_sigma(0.27 + 0.01)
    with torch.no_grad():
        lay.dcls.P.copy_(torch.round(lay.dcls.P))
    x = (torch.rand(2, 30, 4) < 0.3).float()
    soft = lay(x)
    lay.rounded = True
    assert torch.allclose(soft, lay(x), atol=1e-2)  # exp(-1/(2 0.28^2)) ~ 0.2 % leakage


def test_sigma_annealing_schedule():
    assert sigma_at(0, 20, 12.0) == pytest.approx(12.0)
    assert sigma_at(9, 20, 12.0) == pytest.approx(0.5)
    assert sigma_at(19, 20, 12.0) == 0.5
    vals = [sigma_at(e, 20, 12.0) for e in range(20)]
    assert all(a >= b for a, b in zip(vals, vals[1:], strict=False))


def test_positions_clamped_and_delays_in_range():
    lay = DelayLinear(3, 2, 9)
    with torch.no_grad():
        lay.dcls.P.fill_(100.0)
    lay.clamp_positions()
    assert lay.delays().min() == 0 and lay.delays().max() == 0
    with torch.no_grad():
        lay.dcls.P.fill_(-100.0)
    lay.clamp_positions()
    assert int(lay.delays().max()) == 8
