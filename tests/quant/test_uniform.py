import torch

from codesign.quant.uniform import UniformWeightQuant


def test_uniform_integers_range_and_scale():
    torch.manual_seed(1)
    w = torch.randn(6, 32)
    q = UniformWeightQuant(6, bits=4)
    q.init_from(w)
    form = q.integer_form(w)
    ints = form["weight"]
    assert ints.abs().max() == 7  # narrow symmetric 4-bit, the largest |w| maps to 7
    assert torch.allclose(q(w).double(), ints.double() * form["scale"].double(), atol=1e-6)


def test_uniform_lsq_gradient_on_step():
    w = torch.tensor([[0.26, -0.74]])
    q = UniformWeightQuant(1, bits=3)  # qmax 3
    with torch.no_grad():
        q.step.fill_(0.25)
    q(w).sum().backward()
    # d/ds of s*round(w/s) = round(w/s) - w/s: (1 - 1.04) + (-3 - -2.96) = -0.08
    assert abs(q.step.grad.item() - (-0.08)) < 1e-4
