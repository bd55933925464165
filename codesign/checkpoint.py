"""Reading checkpoints as data: tensors, numbers, strings, lists and dicts, never code.

A checkpoint travels (sweep workers, shared build folders, a colleague's model), so it is a
user's file: `torch.load(..., weights_only=True)` refuses any pickled object that would run code
on load, and every way a file can be wrong — missing, empty, truncated, not a checkpoint, from
another model — is one CodesignError naming the file.

Every checkpoint carries three stamps written by `save` and checked by `load`:
  format       FORMAT, the layout version (an older or newer codesign's file is refused)
  model        the model it was trained for (another model's file is refused by name)
  config_hash  SHA-256 of its `config` entry, so settings edited inside the file are caught
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from codesign.atomic import atomic_path
from codesign.errors import CodesignError, first_line

FORMAT = 1


def config_hash(cfg: dict) -> str:
    """The settings' fingerprint: equal settings give equal hashes on any machine."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def save(path: str | Path, model: str, cfg: dict, state: dict) -> None:
    """Write `state` plus the stamps in one atomic rename."""
    stamped = {"format": FORMAT, "model": model, "config": cfg, "config_hash": config_hash(cfg)}
    with atomic_path(path) as tmp:
        torch.save({**stamped, **state}, tmp)


def load(path: str | Path, keys: tuple[str, ...] = (), model: str | None = None) -> dict:
    """The checkpoint's dict, stamped for `model` by this FORMAT, with `keys` present
    (CodesignError otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no checkpoint at {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling and zip errors come in many types
        raise CodesignError(f"{path}: not a readable checkpoint ({first_line(e)[:200]})") from None
    if not isinstance(obj, dict):
        raise CodesignError(f"{path}: not a codesign checkpoint (holds {type(obj).__name__})")
    _check_stamps(obj, path, model)
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


def _check_stamps(obj: dict, path: Path, model: str | None) -> None:
    if obj.get("format") != FORMAT:
        raise CodesignError(
            f"{path}: checkpoint format {obj.get('format')!r}, this codesign reads {FORMAT} "
            "(written by another version; train again)"
        )
    if model is not None and obj.get("model") != model:
        raise CodesignError(f"{path}: a checkpoint of model {obj.get('model')!r}, not {model!r}")
    cfg = obj.get("config")
    if not isinstance(cfg, dict) or obj.get("config_hash") != config_hash(cfg):
        raise CodesignError(
            f"{path}: checkpoint settings do not match their config_hash (edited or damaged)"
        )
