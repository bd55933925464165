"""Detections drawn on test images (PNG), from the golden model's head integers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codesign.atomic import atomic_path
from codesign.data.detection import CLASSES

COLOURS = ("tab:red", "tab:green", "tab:orange")


def draw_detections(images, dets, boxes, path: str | Path, min_score: float = 0.3) -> Path:
    """Ground truth dashed white, detections (score >= min_score) coloured by class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.9))
    for ax, img, d, gb in zip(np.atleast_1d(axes), images, dets, boxes, strict=True):
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
        for b in gb:
            ax.add_patch(
                patches.Rectangle(
                    (b[0] - 0.5, b[1] - 0.5),
                    b[2] - b[0],
                    b[3] - b[1],
                    fill=False,
                    ec="white",
                    ls="--",
                    lw=1,
                )
            )
        for b, s, c in zip(d["boxes"], d["scores"], d["labels"], strict=True):
            if s < min_score:
                continue
            ax.add_patch(
                patches.Rectangle(
                    (b[0] - 0.5, b[1] - 0.5),
                    b[2] - b[0],
                    b[3] - b[1],
                    fill=False,
                    ec=COLOURS[int(c) % len(COLOURS)],
                    lw=1.5,
                )
            )
            ax.text(
                b[0],
                b[1] - 1,
                f"{CLASSES[int(c)]} {s:.2f}",
                color=COLOURS[int(c) % len(COLOURS)],
                fontsize=6,
            )
        ax.set_axis_off()
    fig.suptitle(
        "codenet_tiny integer (golden) detections; white dashed = ground truth", fontsize=8
    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
