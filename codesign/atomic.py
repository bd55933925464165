"""Write-then-rename helpers: a failed step never leaves a half-written artefact under build/."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _prefix(path: Path) -> str:
    """Temporaries are named .<name>.<pid>@<host>.<8 random>[suffix]: their owner is known."""
    return f".{path.name}.{os.getpid()}@{_HOST}."


def _remove_leftovers(path: Path) -> None:
    """Temporaries of `path` left by a process of this machine that is gone (a run killed
    mid-write); the `.old` copy of a directory swap killed half-way goes back in place if
    `path` itself is gone. Only names of exactly that form are touched: a sibling artefact
    named like `<name>.2` (and its own temporaries) never is."""
    old = path.with_name(f".{path.name}.old")
    if old.exists():
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(path)
    mine = re.compile(
        rf"\.{re.escape(path.name)}\.(\d+)@{re.escape(_HOST)}\.[a-z0-9_]{{8}}"
        rf"(?:{re.escape(path.suffix)})?"
    )
    for p in path.parent.glob(f".{glob.escape(path.name)}.*"):
        m = mine.fullmatch(p.name)
        if m and not _alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path), suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; it replaces `path` as a whole only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(path), dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        old = path.with_name(f".{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_json(path: str | Path, data: dict) -> Path:
    """A report as standard JSON: a NaN or infinite number (which JSON cannot hold, and which
    users' scripts would choke on) is an error naming the key, and nothing is written."""
    try:
        text = json.dumps(data, indent=2, sort_keys=False, default=_jsonable, allow_nan=False)
    except ValueError:
        from codesign.errors import CodesignError

        raise CodesignError(
            f"{path}: {_non_finite(data) or 'a value'} is not a finite number; not written"
        ) from None
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
    return Path(path)


def _non_finite(data, where: str = "") -> str | None:
    """The key path of the first NaN or infinity in a JSON-like value."""
    import math

    import numpy as np

    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    elif isinstance(data, np.ndarray):
        items = enumerate(data.tolist())
    else:
        ok = not isinstance(data, float | np.floating) or math.isfinite(float(data))
        return None if ok else (where or "the value")
    for k, v in items:
        found = _non_finite(v, f"{where}.{k}" if where else str(k))
        if found:
            return found
    return None


def write_with(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call writer(tmp_path) and rename the result over `path`."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def _jsonable(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
