"""Training recipe: float warm-up, QAT without threshold (the dense model), then a short
threshold-aware fine-tune per θ. An L1 penalty on frame-to-frame activation changes (the
paper's sparsity loss) makes the activations temporally smoother, so more deltas are zero.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from codesign.delta.data import IN_EXP
from codesign.delta.model import DeltaSeqNet
from codesign.models.training import seed_everything

DEFAULTS = {
    "data": {"paths_train": 4, "paths_test": 6, "steps": 16, "speed": 0.4},
    "model": {"hidden": 32, "mid": 32, "weight_bits": 6, "act_bits": 8},
    "train": {
        "seed": 0,
        "float_epochs": 12,
        "qat_epochs": 6,
        "tune_epochs": 3,
        "batch_size": 128,
        "lr_float": 0.005,
        "lr_qat": 0.002,
        "lr_tune": 0.001,
        "delta_l1": 1.0,
    },
    "thresholds": [0, 2, 4, 8, 16, 24, 32, 48, 64],
}


def config(overrides: dict | None = None) -> dict:
    """Defaults < flows/delta_seq.yaml (if present) < overrides, checked (codesign/config.py)."""
    from codesign.config import load

    return load("delta_seq", DEFAULTS, overrides)


def to_real(x_codes: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x_codes, dtype=np.float32) * 2.0**IN_EXP)


def fit(
    model: DeltaSeqNet,
    x: torch.Tensor,
    y: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    l1: float,
) -> DeltaSeqNet:
    """Adam + cosine schedule; loss = cross-entropy + l1 * mean |a_t - a_{t-1}|.

    One torch thread: the layers are tiny, and intra-op threads on a busy 2-core machine spin
    against each other (measured 50x slower than one thread).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(model, x, y, epochs, lr, batch_size, seed, l1)
    finally:
        torch.set_num_threads(threads)


def _fit(model, x, y, epochs, lr, batch_size, seed, l1) -> DeltaSeqNet:
    gen = torch.Generator().manual_seed(seed)
    yt = torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            loss = nn.functional.cross_entropy(model(x[idx]), yt[idx])
            if l1:
                loss = loss + l1 * model.penalty
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    model.penalty = torch.tensor(0.0)  # drop the graph (deepcopy needs leaf tensors)
    return model


def train_dense(cfg: dict, xtr: np.ndarray, ytr: np.ndarray) -> DeltaSeqNet:
    """Float warm-up, calibration, then QAT with θ = 0 (every non-zero delta sent)."""
    t, m = cfg["train"], cfg["model"]
    seed = int(t["seed"])
    seed_everything(seed)
    x = to_real(xtr)
    model = DeltaSeqNet(
        x.shape[2], int(m["hidden"]), int(m["mid"]), int(ytr.max()) + 1,
        int(m["weight_bits"]), int(m["act_bits"]),
    )  # fmt: skip
    bs, l1 = int(t["batch_size"]), float(t["delta_l1"])
    fit(model, x, ytr, int(t["float_epochs"]), float(t["lr_float"]), bs, seed, l1)
    model.start_qat(x[:1024])
    fit(model, x, ytr, int(t["qat_epochs"]), float(t["lr_qat"]), bs, seed + 1, l1)
    return model


def tune(cfg: dict, dense: DeltaSeqNet, theta: int, xtr: np.ndarray, ytr: np.ndarray):
    """A copy of the dense model fine-tuned with the threshold in the loop.

    θ = 0 gets the same fine-tune, so every variant has had the same amount of training.
    """
    t = cfg["train"]
    model = copy.deepcopy(dense)
    model.set_threshold(theta)
    if int(t["tune_epochs"]) > 0:
        seed_everything(int(t["seed"]) + theta)
        fit(
            model, to_real(xtr), ytr, int(t["tune_epochs"]), float(t["lr_tune"]),
            int(t["batch_size"]), int(t["seed"]) + theta, float(t["delta_l1"]),
        )  # fmt: skip
    return model
