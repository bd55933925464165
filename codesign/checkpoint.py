"""Reading checkpoints as data: tensors, numbers, strings, lists and dicts, never code.

A checkpoint travels (sweep workers, shared build folders, a colleague's model), so it is a
user's file: `torch.load(..., weights_only=True)` refuses any pickled object that would run code
on load, and every way a file can be wrong — missing, empty, truncated, not a checkpoint, from
another model — is one CodesignError naming the file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from codesign.errors import CodesignError, first_line


def load(path: str | Path, keys: tuple[str, ...] = ()) -> dict:
    """The checkpoint's dict, with `keys` present (CodesignError otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no checkpoint at {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling and zip errors come in many types
        raise CodesignError(f"{path}: not a readable checkpoint ({first_line(e)[:200]})") from None
    if not isinstance(obj, dict):
        raise CodesignError(f"{path}: not a codesign checkpoint (holds {type(obj).__name__})")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise CodesignError(
            f"{path}: checkpoint lacks {missing[0]!r} (written by another model or version; "
            "train again)"
        )
    return obj


def load_state(module: torch.nn.Module, state: object, path: str | Path, key: str) -> None:
    """module.load_state_dict(state), a mismatch named by file and entry instead of a dump."""
    if not isinstance(state, dict):
        raise CodesignError(f"{path}: checkpoint entry {key!r} is not a state dict")
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as e:
        raise CodesignError(
            f"{path}: {key!r} does not fit this model ({first_line(e)[:200]})"
        ) from None
