"""Where things live: build/<model>/... (override the root with CODESIGN_BUILD_DIR), flows/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from codesign.errors import CodesignError

REPO_ROOT = Path(__file__).resolve().parents[1]
FLOWS_DIR = REPO_ROOT / "flows"


def build_root() -> Path:
    return Path(os.environ.get("CODESIGN_BUILD_DIR", "build"))


@contextmanager
def using_build_root(root: Path) -> Iterator[Path]:
    """Run the flow functions against another build root inside the block (CODESIGN_BUILD_DIR
    is process-global, so callers that run in threads must serialise around this)."""
    old = os.environ.get("CODESIGN_BUILD_DIR")
    os.environ["CODESIGN_BUILD_DIR"] = str(root)
    try:
        yield root
    finally:
        if old is None:
            os.environ.pop("CODESIGN_BUILD_DIR", None)
        else:
            os.environ["CODESIGN_BUILD_DIR"] = old


def model_dir(model: str) -> Path:
    return build_root() / model


def onnx_path(model: str) -> Path:
    return model_dir(model) / "onnx" / "model.onnx"


def golden_dir(model: str) -> Path:
    return model_dir(model) / "golden"


def reports_dir(model: str) -> Path:
    return model_dir(model) / "reports"


def flow_config(model: str) -> dict:
    """flows/<model>.yaml as a dict (empty if the model has none)."""
    path = FLOWS_DIR / f"{model}.yaml"
    if not path.is_file():
        return {}
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise CodesignError(f"bad flow file {path}: {e}") from None
