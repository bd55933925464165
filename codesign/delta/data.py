"""The sequence task: sklearn digits seen through a slowly drifting aperture.

Each sample is `steps` frames of an 8x8 digit multiplied by a Gaussian aperture whose centre moves
`speed` pixels per frame in a random direction and bounces off the borders. One frame shows only
part of the digit, so the label needs the frames integrated over time; the aperture moves
slowly, so consecutive frames (and the activations they cause) differ little: the regime where
delta activations pay. Frames are uint8 pixel codes (real value = code / 256), exactly the
integers the hardware receives.
"""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError

SIDE = 8
PIXELS = SIDE * SIDE
IN_EXP = -8  # frame code k stands for k * 2**-8


def aperture_sequences(
    images: np.ndarray,
    labels: np.ndarray,
    paths: int,
    seed: int,
    steps: int = 16,
    speed: float = 0.4,
    sigma: float = 1.3,
) -> tuple[np.ndarray, np.ndarray]:
    """(x (n * paths, steps, 64) uint8, y (n * paths,) int64) from images (n, 64) in [0, 1]."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[1] != PIXELS:
        raise CodesignError(f"aperture sequences: images must be (n, {PIXELS}), got {images.shape}")
    if paths < 1 or steps < 1:
        raise CodesignError(f"aperture sequences: paths={paths} and steps={steps} must be >= 1")
    rng = np.random.default_rng(seed)
    n = len(images) * paths
    centre = rng.uniform(1.5, SIDE - 2.5, size=(n, 2))
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    vel = speed * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float64)  # (64, 2) as (x, y)
    img = np.repeat(images, paths, axis=0)
    x = np.zeros((n, steps, PIXELS), dtype=np.uint8)
    hi = SIDE - 1.0
    for t in range(steps):
        d2 = ((grid[None, :, :] - centre[:, None, :]) ** 2).sum(-1)
        frame = img * np.exp(-d2 / (2 * sigma**2)) * 255.0
        x[:, t] = np.clip(np.round(frame), 0, 255).astype(np.uint8)
        centre = centre + vel
        low, high = centre < 0, centre > hi  # bounce off the borders
        centre = np.where(low, -centre, np.where(high, 2 * hi - centre, centre))
        vel = np.where(low | high, -vel, vel)
    return x, np.repeat(np.asarray(labels, dtype=np.int64), paths)


def split(
    paths_train: int = 3,
    paths_test: int = 4,
    steps: int = 16,
    speed: float = 0.4,
    val_fraction: float = 0.2,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{'train', 'val', 'test'}: (x, y) sequences; no digit image appears in two of them.

    Train and validation come from digits' train split (the validation images held out, used
    to choose θ), test from its test split (the split digits_mlp uses).
    """
    from sklearn.model_selection import train_test_split

    from codesign.data.digits import digits_split

    xtr, ytr, xte, yte = digits_split()
    xtr, xva, ytr, yva = train_test_split(
        xtr, ytr, test_size=val_fraction, random_state=0, stratify=ytr
    )
    return {
        "train": aperture_sequences(xtr, ytr, paths_train, seed=1, steps=steps, speed=speed),
        "val": aperture_sequences(xva, yva, paths_test, seed=3, steps=steps, speed=speed),
        "test": aperture_sequences(xte, yte, paths_test, seed=2, steps=steps, speed=speed),
    }
