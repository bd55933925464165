"""CenterNet targets, loss and decoding (Zhou et al., "Objects as Points", arXiv 1904.07850).

Output maps at stride 4: K class heatmaps (logits), box size (w, h) in output cells and the
centre's sub-cell offset (x, y). Loss: the penalty-reduced focal loss (alpha 2, beta 4) on the
heatmaps + L1 on size (weight 0.1) and offset (weight 1) at object centres, as in the paper.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F


def gaussian_radius(h: float, w: float, min_overlap: float = 0.7) -> float:
    """CenterNet's radius (the smallest of its three quadratic cases, CornerNet rule)."""
    a1, b1, c1 = 1, h + w, w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + np.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2, c2 = 4, 2 * (h + w), (1 - min_overlap) * w * h
    r2 = (b2 + np.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3, c3 = 4 * min_overlap, -2 * min_overlap * (h + w), (min_overlap - 1) * w * h
    r3 = (b3 + np.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return float(min(r1, r2, r3))


def make_targets(boxes, labels, classes: int, out_size: int, stride: int) -> dict:
    """Per-image heatmap (K, S, S), and per-centre indices, sizes and offsets."""
    n = len(boxes)
    hm = np.zeros((n, classes, out_size, out_size), np.float32)
    reg = np.zeros((n, 4, out_size, out_size), np.float32)  # w, h, dx, dy
    mask = np.zeros((n, out_size, out_size), np.float32)
    yy, xx = np.mgrid[0:out_size, 0:out_size]
    for i, (bs, ls) in enumerate(zip(boxes, labels, strict=True)):
        for b, c in zip(bs, ls, strict=True):
            w, h = (b[2] - b[0]) / stride, (b[3] - b[1]) / stride
            cx, cy = (b[0] + b[2]) / 2 / stride, (b[1] + b[3]) / 2 / stride
            ix, iy = min(int(cx), out_size - 1), min(int(cy), out_size - 1)
            r = max(0, int(gaussian_radius(h, w)))
            sigma = (2 * r + 1) / 6
            g = np.exp(-((xx - ix) ** 2 + (yy - iy) ** 2) / (2 * sigma**2))
            hm[i, c] = np.maximum(hm[i, c], g)
            reg[i, :, iy, ix] = (w, h, cx - ix, cy - iy)
            mask[i, iy, ix] = 1.0
    return {"hm": torch.as_tensor(hm), "reg": torch.as_tensor(reg), "mask": torch.as_tensor(mask)}


def loss(out: torch.Tensor, tgt: dict, classes: int) -> torch.Tensor:
    """Focal loss on heatmaps + 0.1 * L1(size) + L1(offset) at centres."""
    p = torch.sigmoid(out[:, :classes]).clamp(1e-4, 1 - 1e-4)
    gt = tgt["hm"]
    pos = gt.eq(1).float()
    neg = 1 - pos
    pos_l = (torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_l = (torch.log(1 - p) * p**2 * (1 - gt) ** 4 * neg).sum()
    npos = pos.sum().clamp_min(1)
    focal = -(pos_l + neg_l) / npos
    m = tgt["mask"].unsqueeze(1)
    reg = out[:, classes:]
    l1 = (F.l1_loss(reg * m, tgt["reg"] * m, reduction="none")).sum(dim=(0, 2, 3)) / npos
    return focal + 0.1 * (l1[0] + l1[1]) + l1[2] + l1[3]


def decode(
    out: np.ndarray, classes: int, stride: int, top_k: int = 20, min_score: float = 0.01
) -> list[dict]:
    """Real-valued head maps (N, K+4, S, S) -> per image {boxes (k,4), scores, labels}.

    Peaks are 3x3 local maxima of the class heatmaps (CenterNet's max-pool NMS).
    """
    t = torch.as_tensor(np.asarray(out, np.float64))
    heat = torch.sigmoid(t[:, :classes])
    peak = F.max_pool2d(heat, 3, 1, 1) == heat
    heat = heat * peak
    n, _, s, _ = heat.shape
    dets = []
    for i in range(n):
        scores, idx = heat[i].flatten().topk(min(top_k, heat[i].numel()))
        keep = scores >= min_score
        scores, idx = scores[keep], idx[keep]
        cls = idx // (s * s)
        iy, ix = (idx % (s * s)) // s, idx % s
        w, h, dx, dy = (t[i, classes + j, iy, ix] for j in range(4))
        cx, cy = (ix + dx) * stride, (iy + dy) * stride
        boxes = torch.stack(
            [cx - w * stride / 2, cy - h * stride / 2, cx + w * stride / 2, cy + h * stride / 2], 1
        )
        dets.append({"boxes": boxes.numpy(), "scores": scores.numpy(), "labels": cls.numpy()})
    return dets
