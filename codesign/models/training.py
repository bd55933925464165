"""Plain, seeded full-batch-shuffled training loops with a tqdm bar (CPU, small data sets)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

# Training's thread count, fixed: torch splits sums by thread, so the trained weights (and every
# figure after them) would otherwise depend on the machine's core count. Two is what CI has.
TRAIN_THREADS = 2


@contextmanager
def deterministic(seed: int, threads: int = TRAIN_THREADS) -> Iterator[None]:
    """Seeded torch with deterministic kernels on a fixed number of threads; the global RNG,
    thread count and settings are restored after. Training under it gives the same weights run
    after run and on machines with different core counts (CPUs with different vector units can
    still round differently: torch promises no more)."""
    det = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    outer_threads = torch.get_num_threads()
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        seed_everything(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(det, warn_only=warn_only)
            torch.set_num_threads(outer_threads)
            np.random.set_state(np_state)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def fit(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    desc: str,
) -> nn.Module:
    """Adam + cosine schedule, cross-entropy; deterministic for a given seed."""
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    model.train()
    bar = tqdm(range(epochs), desc=desc, leave=False, disable=None)
    for _ in bar:
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch_size):
            idx = perm[i : i + batch_size]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return model


@torch.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    pred = model(torch.as_tensor(x)).argmax(dim=1).numpy()
    return float((pred == y).mean())
