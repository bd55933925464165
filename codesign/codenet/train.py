"""The training loop of codenet_tiny (the recipe is in codesign/models/codenet_tiny.py).

The same loop trains the float model (bounded bilinear offsets), its rounded-offset fine-tune and
the QAT model (QuantCodeNet, whose forward pass is the integer model).
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from codesign.codenet import centernet
from codesign.codenet.model import BLOCK
from codesign.data.detection import CLASSES, DetectionSet


def fit(model, data: DetectionSet, epochs: int, lr: float, batch: int, seed: int, desc: str):
    """Adam + one-cycle schedule on the CenterNet loss; deterministic for a seed."""
    gen = torch.Generator().manual_seed(seed)
    size = data.images.shape[-1] // BLOCK
    tgt = centernet.make_targets(data.boxes, data.labels, len(CLASSES), size, BLOCK)
    x = torch.as_tensor(data.images)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=max(1, steps), pct_start=0.1)
    model.train()
    bar = tqdm(range(epochs), desc=desc, leave=False, disable=None)
    for _ in bar:
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            out = model(x[idx])
            loss = centernet.loss(out, {k: v[idx] for k, v in tgt.items()}, len(CLASSES))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return model
