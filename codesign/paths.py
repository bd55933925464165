"""Where things live: a `Workspace` (build/<model>/...) and flows/.

Every flow function finds its files through the current workspace. It is a context variable,
not process state: `using_workspace` sets it for the calling thread (or task) only, so two
sweep points in two threads build in two folders. Outside any `using_workspace` block the
workspace is `build/`, or the folder named by CODESIGN_BUILD_DIR (read, never written).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import yaml

from codesign.errors import CodesignError

REPO_ROOT = Path(__file__).resolve().parents[1]
FLOWS_DIR = REPO_ROOT / "flows"


@dataclass(frozen=True)
class Workspace:
    """A build folder: one sub-folder per model (onnx/, golden/, reports/, rtl/, ...)."""

    root: Path

    def model_dir(self, model: str) -> Path:
        """build/<model>, with any step a killed run had committed finished first (so no
        reader sees half of one step's files)."""
        from codesign.atomic import finish_interrupted

        folder = self.root / model
        finish_interrupted(folder)
        return folder

    def onnx_path(self, model: str) -> Path:
        return self.model_dir(model) / "onnx" / "model.onnx"

    def golden_dir(self, model: str) -> Path:
        return self.model_dir(model) / "golden"

    def reports_dir(self, model: str) -> Path:
        return self.model_dir(model) / "reports"


_CURRENT: ContextVar[Workspace | None] = ContextVar("codesign_workspace", default=None)


def workspace() -> Workspace:
    """The workspace of this thread or task: the innermost `using_workspace`, else the default."""
    ws = _CURRENT.get()
    return ws if ws is not None else Workspace(Path(os.environ.get("CODESIGN_BUILD_DIR", "build")))


@contextmanager
def using_workspace(root: Workspace | Path | str) -> Iterator[Workspace]:
    """Run the flow functions against another build folder inside the block (this thread only)."""
    ws = root if isinstance(root, Workspace) else Workspace(Path(root))
    token = _CURRENT.set(ws)
    try:
        yield ws
    finally:
        _CURRENT.reset(token)


def build_root() -> Path:
    return workspace().root


def model_dir(model: str) -> Path:
    return workspace().model_dir(model)


def onnx_path(model: str) -> Path:
    return workspace().onnx_path(model)


def golden_dir(model: str) -> Path:
    return workspace().golden_dir(model)


def reports_dir(model: str) -> Path:
    return workspace().reports_dir(model)


def flow_config(model: str) -> dict:
    """flows/<model>.yaml as a dict (empty if the model has none)."""
    path = FLOWS_DIR / f"{model}.yaml"
    if not path.is_file():
        return {}
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise CodesignError(f"bad flow file {path}: {e}") from None


def source_of(path: Path, model_dir: Path) -> dict:
    """{'file': path relative to the model's folder, 'sha256': its digest}."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {"file": str(Path(path).relative_to(model_dir)), "sha256": digest}


def check_built_from(what: str, recorded: dict | None, model_dir: Path, again: str) -> None:
    """Refuse `what` when the file it records being built from (`source_of`) has changed
    since; `again` is the command that rebuilds it. Nothing recorded: not judged."""
    if not recorded:
        return
    if not isinstance(recorded, dict) or not {"file", "sha256"} <= set(recorded):
        raise CodesignError(f"{what}: its record of what it was built from is damaged")
    src = Path(model_dir) / str(recorded["file"])
    if src.is_file() and source_of(src, model_dir)["sha256"] != recorded["sha256"]:
        raise CodesignError(
            f"{what} was built from another {recorded['file']} (it changed since): "
            f"run `{again}` again"
        )
