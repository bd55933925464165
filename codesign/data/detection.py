"""A generated detection set: bright shapes (square, disk, triangle) on a noisy canvas.

Offline and deterministic (seeded): several objects per image, each with a box
[x0, y0, x1, y1] in pixels (x1, y1 exclusive) and a class label. Objects overlap little
(IoU < 0.2 with the others) so every box is visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError

CLASSES = ("square", "disk", "triangle")


@dataclass
class DetectionSet:
    images: np.ndarray  # (N, 1, S, S) float32 in [0, 1]
    boxes: list[np.ndarray]  # per image (k, 4) float64 [x0, y0, x1, y1]
    labels: list[np.ndarray]  # per image (k,) int64

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx) -> DetectionSet:
        idx = list(idx)
        return DetectionSet(
            self.images[idx], [self.boxes[i] for i in idx], [self.labels[i] for i in idx]
        )


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _draw(canvas: np.ndarray, cls: int, box: np.ndarray, value: float) -> None:
    x0, y0, x1, y1 = (int(v) for v in box)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    w, h = x1 - x0, y1 - y0
    if cls == 0:
        mask = np.ones_like(yy, dtype=bool)
    elif cls == 1:
        cy, cx = y0 + (h - 1) / 2, x0 + (w - 1) / 2
        mask = ((yy - cy) / (h / 2)) ** 2 + ((xx - cx) / (w / 2)) ** 2 <= 1.0
    else:  # triangle: apex at the top centre, base at the bottom
        t = (yy - y0 + 0.5) / h
        cx = x0 + w / 2
        mask = np.abs(xx + 0.5 - cx) <= t * w / 2
    region = canvas[y0:y1, x0:x1]
    region[mask] = value


def make_detection_set(
    n: int,
    size: int = 64,
    max_objects: int = 4,
    seed: int = 0,
    min_obj: int = 10,
    max_obj: int = 22,
) -> DetectionSet:
    """`n` images of `size` x `size` with 1..max_objects shapes each."""
    if size < max_obj + 2 or min_obj < 3 or min_obj > max_obj:
        raise CodesignError(
            f"detection set: bad sizes (canvas {size}, objects {min_obj}..{max_obj})"
        )
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size), np.float32)
    all_boxes, all_labels = [], []
    for i in range(n):
        canvas = rng.uniform(0.0, 0.25, (size, size))
        boxes: list[np.ndarray] = []
        labels: list[int] = []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            for _attempt in range(20):
                w = int(rng.integers(min_obj, max_obj + 1))
                h = w if rng.random() < 0.5 else int(rng.integers(min_obj, max_obj + 1))
                x0, y0 = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
                box = np.array([x0, y0, x0 + w, y0 + h], np.float64)
                if all(_iou(box, b) < 0.2 for b in boxes):
                    cls = int(rng.integers(0, len(CLASSES)))
                    _draw(canvas, cls, box, float(rng.uniform(0.6, 1.0)))
                    boxes.append(box)
                    labels.append(cls)
                    break
        images[i, 0] = np.clip(canvas, 0.0, 1.0)
        all_boxes.append(np.array(boxes, np.float64).reshape(-1, 4))
        all_labels.append(np.array(labels, np.int64))
    return DetectionSet(images, all_boxes, all_labels)
