"""Training loop for the spiking models: Adam (positions with their own, larger learning rate,
as in the DCLS reference), cosine schedule, sigma annealing, position clamping after each step.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm import tqdm


def sigma_at(epoch: int, epochs: int, sigma0: float, sigma1: float = 0.5, frac: float = 0.5):
    """Exponential annealing sigma0 -> sigma1 over the first `frac` of training, then sigma1."""
    stop = max(1, int(round(frac * epochs)) - 1)
    if epoch >= stop:
        return sigma1
    return float(sigma0 * (sigma1 / sigma0) ** (epoch / stop))


def delay_layers(model: nn.Module) -> list:
    from codesign.layers.delay import DelayLinear

    return [m for m in model.modules() if isinstance(m, DelayLinear) and m.learn_delays]


def rate_penalty(model: nn.Module, floor: float) -> torch.Tensor:
    """Keeps hidden neurons alive while sigma shrinks: penalise a per-neuron spike count per
    sample below `floor` (squared hinge), for every spiking LIF layer."""
    from codesign.layers.lif import LIF

    terms = []
    for m in model.modules():
        if isinstance(m, LIF) and m.spiking and getattr(m, "last_output", None) is not None:
            count = m.last_output.sum(dim=1).mean(dim=0)  # spikes per neuron per sample
            terms.append(torch.relu(floor - count).pow(2).mean())
    return torch.stack(terms).sum() if terms else torch.zeros(())


def fit_snn(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    desc: str,
    lr_pos: float = 0.0,
    sigma0: float | None = None,
    sigma_frac: float = 0.5,
    log=None,
    rate_floor: float = 0.0,
) -> nn.Module:
    """Cross-entropy on the model's scores; positions (dcls `P`) trained only if lr_pos > 0."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    dls = delay_layers(model)
    pos = [m.dcls.P for m in dls]
    pos_ids = {id(p) for p in pos}
    weights = [p for p in model.parameters() if p.requires_grad and id(p) not in pos_ids]
    groups = [{"params": weights, "lr": lr}]
    if lr_pos > 0 and pos:
        groups.append({"params": pos, "lr": lr_pos})
    for p in pos:
        p.requires_grad_(lr_pos > 0)
    opt = torch.optim.Adam(groups)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    bar = tqdm(range(epochs), desc=desc, leave=False, disable=None)
    for ep in bar:
        if sigma0 is not None:
            for m in dls:
                m.set_sigma(sigma_at(ep, epochs, sigma0, frac=sigma_frac))
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch_size):
            idx = perm[i : i + batch_size]
            loss = nn.functional.cross_entropy(model(xt[idx].float()), yt[idx])
            if rate_floor > 0:
                loss = loss + rate_penalty(model, rate_floor)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for m in dls:
                m.clamp_positions()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if log is not None:
            log(ep, model, float(loss))
    model.eval()
    return model


@torch.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Float accuracy of model(x).argmax over the whole split."""
    model.eval()
    preds = []
    for i in range(0, len(x), batch_size):
        preds.append(model(torch.as_tensor(x[i : i + batch_size]).float()).argmax(1).numpy())
    return float((np.concatenate(preds) == y).mean())
