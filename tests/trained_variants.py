"""Briefly trained digits_mlp variants (ASQ + POST, AdaLog), one per test process, shared by
tests/quant and tests/hw.

Each is trained, exported and run through the golden model in its own temporary build root, so
it never replaces the `trained_digits` fixture's model (all are called digits_mlp).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

ASQ_QUICK = {
    "quant": {"act_quant": "asq", "weight_quant": "post", "weight_bits": 3, "act_bits": 3},
    "train": {"float_epochs": 6, "qat_epochs": 4},
}
ADALOG_QUICK = {
    "quant": {"act_quant": "adalog", "act_bits": 4},
    "train": {"float_epochs": 8, "qat_epochs": 4},
}
_built: dict[str, Path] = {}


def trained_variant(name: str, overrides: dict) -> Path:
    """build/digits_mlp of the variant `name` (checkpoint, onnx/, golden/, reports/)."""
    if name not in _built:
        from codesign import flow, paths

        root = Path(tempfile.mkdtemp(prefix=f"{name}_build_"))
        atexit.register(shutil.rmtree, root, True)
        with paths.using_workspace(root):
            flow.train("digits_mlp", overrides)
            flow.export("digits_mlp")
            flow.golden("digits_mlp")
        _built[name] = root / "digits_mlp"
    return _built[name]


def trained_asq() -> Path:
    return trained_variant("asq", ASQ_QUICK)


def trained_adalog() -> Path:
    return trained_variant("adalog", ADALOG_QUICK)
