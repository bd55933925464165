"""A quickly trained delta model (dense and θ = 8 variants) shared by the delta tests."""

from __future__ import annotations

import pytest
from delta_testutil import QUICK


@pytest.fixture(scope="session")
def quick_models():
    """({θ: model} for θ in (0, 8), the data splits): the recipe the flow uses, shortened."""
    from codesign.delta import data, train

    cfg = train.config(QUICK)
    sets = data.split(1, 1)
    xtr, ytr = sets["train"]
    dense = train.train_dense(cfg, xtr, ytr)
    return {th: train.tune(cfg, dense, th, xtr, ytr) for th in (0, 8)}, sets
