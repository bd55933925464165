"""Write-then-rename helpers: a failed step never leaves a half-written artefact under build/.

One artefact: `atomic_path` / `atomic_dir` / `write_json` (a rename is atomic).
Several artefacts of one step (a checkpoint and its report, golden tensors and golden.json):
`together` stages them in one folder beside them and records the moves in a plan before making
any; a run killed after the plan is finished by the next one (`finish_interrupted`, which
`paths.model_dir` calls), one killed before it is discarded. After a kill, readers thus see
the previous step's files or the new step's, never a mix. (Commits are not serialised against
each other or against readers that run during one: run one writer per model at a time.)
"""

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


def _swap_name(path: Path) -> Path:
    """Where a folder swap parks the old copy: named by its process, so another process can
    tell a swap in progress (leave it) from one whose process was killed (undo it)."""
    return path.with_name(f".{path.name}.old.{os.getpid()}@{_HOST}")


def _restore_swaps(folder: Path) -> None:
    """Old copies parked by folder swaps of `folder`'s entries whose process is gone: put back
    where the new copy never arrived, else removed."""
    for old in folder.glob(f".*.old.*@{glob.escape(_HOST)}"):
        m = re.fullmatch(rf"\.(.+)\.old\.(\d+)@{re.escape(_HOST)}", old.name)
        if not m or not old.is_dir() or _alive(int(m.group(2))):
            continue
        target = old.with_name(m.group(1))
        try:
            if target.exists():
                shutil.rmtree(old)
            else:
                old.rename(target)
        except OSError:  # another process is restoring it at this moment
            pass


def _remove_dead_temporaries(folder: Path) -> None:
    """Temporaries (`atomic_path`, `atomic_dir`) in `folder` whose process is gone."""
    pattern = re.compile(rf"\..+\.(\d+)@{re.escape(_HOST)}\.[a-z0-9_]{{8}}(?:\.\w+)?")
    for p in folder.glob(f".*.*@{glob.escape(_HOST)}.*"):
        m = pattern.fullmatch(p.name)
        if m and not p.name.startswith(f"{_STAGE}.") and not _alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _remove_leftovers(path: Path) -> None:
    """Temporaries of `path` left by a process of this machine that is gone (a run killed
    mid-write); the `.old` copy of a directory swap killed half-way goes back in place if
    `path` itself is gone. Only names of exactly that form are touched: a sibling artefact
    named like `<name>.2` (and its own temporaries) never is."""
    old = path.with_name(f".{path.name}.old")  # an older codesign's swap (no process id)
    if old.exists():
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(path)
    _restore_swaps(path.parent)
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
        old = _swap_name(path)
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
    text = _json_text(path, data)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def _json_text(path: str | Path, data: dict) -> str:
    try:
        text = json.dumps(data, indent=2, sort_keys=False, default=_jsonable, allow_nan=False)
    except ValueError:
        from codesign.errors import CodesignError

        raise CodesignError(
            f"{path}: {_non_finite(data) or 'a value'} is not a finite number; not written"
        ) from None
    return text + "\n"


@contextmanager
def replacing_dir(path: str | Path, staged: Staged | None = None) -> Iterator[Path]:
    """A generator's output folder: on its own (`atomic_dir`), or as one of the artefacts of
    a step that `together` commits (`staged`)."""
    if staged is None:
        with atomic_dir(path) as tmp:
            yield tmp
    else:
        yield staged.dir(path)


_STAGE = ".commit"
_PLAN = "plan.json"


class Staged:
    """The artefacts of one step, written into a staging folder under the model's folder."""

    def __init__(self, root: Path, stage: Path) -> None:
        self.root, self.stage = root, stage
        self.moves: list[tuple[str, str, bool]] = []  # (staged name, final path, is a folder)

    def _rel(self, final: str | Path) -> str:
        """`final` relative to the model's folder (it must lie inside it: one file system)."""
        for a, b in ((Path(final), self.root), (Path(final).resolve(), self.root.resolve())):
            try:
                return str(a.relative_to(b))
            except ValueError:
                continue
        from codesign.errors import CodesignError

        raise CodesignError(f"{final}: outside the model folder {self.root}, not written")

    def _stage(self, final: str | Path, is_dir: bool) -> Path:
        rel = Path(self._rel(final))
        name = f"{len(self.moves)}-{rel.name}"
        self.moves.append((name, str(rel), is_dir))
        return self.stage / name

    def path(self, final: str | Path) -> Path:
        """Where to write the file that becomes `final`."""
        return self._stage(final, False)

    def dir(self, final: str | Path) -> Path:
        """A fresh folder that replaces `final` as a whole."""
        d = self._stage(final, True)
        d.mkdir()
        return d

    def find(self, final: str | Path) -> Path:
        """The staged copy of `final` (to check or measure it before it replaces the old)."""
        rel = self._rel(final)
        return next(self.stage / name for name, r, _ in self.moves if r == rel)

    def json(self, final: str | Path, data: dict) -> None:
        """A report (checked like `write_json`) that becomes `final`."""
        text = _json_text(final, data)
        self.path(final).write_text(text)


@contextmanager
def together(root: str | Path) -> Iterator[Staged]:
    """Stage several artefacts under `root` (a model's folder); if the block succeeds, they
    replace the old ones together, else none does."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    finish_interrupted(root)
    stage = Path(tempfile.mkdtemp(prefix=f"{_STAGE}.{os.getpid()}@{_HOST}.", dir=root))
    staged = Staged(root, stage)
    try:
        yield staged
        plan = json.dumps([list(m) for m in staged.moves])
        with atomic_path(stage / _PLAN) as tmp:  # the rename of the plan is the commit point
            tmp.write_text(plan)
        _apply(root, stage)
    finally:
        if stage.exists() and not (stage / _PLAN).exists():
            shutil.rmtree(stage)


def _apply(root: Path, stage: Path) -> None:
    """Make the plan's moves (each is skipped once done, so a re-run after a kill resumes),
    holding the plan's lock: two processes never apply one plan at once."""
    import fcntl

    try:
        fd = os.open(stage / _PLAN, os.O_RDONLY)
    except FileNotFoundError:  # finished by another process meanwhile
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process is applying it now
            return
        if not (stage / _PLAN).exists():
            return
        for name, rel, is_dir in json.loads((stage / _PLAN).read_text()):
            src, dst = stage / name, root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            old = _swap_name(dst)
            if src.exists() and is_dir:
                if dst.exists():
                    dst.rename(old)
                src.rename(dst)
            elif src.exists():
                os.replace(src, dst)
            if is_dir and old.exists():
                shutil.rmtree(old)
        shutil.rmtree(stage)
    finally:
        os.close(fd)


def finish_interrupted(root: str | Path) -> None:
    """Commits of killed runs under `root`: finished if their plan was written, else dropped;
    a folder swap of `root` or of a folder in or one level below it whose process was killed
    between its two renames gets its last good copy back. A run still alive is left alone (by
    its process id on this host: a build folder shared between hosts, or a container where a
    new run gets the killed one's process id, is not recovered here)."""
    root = Path(root)
    for folder in (root.parent, root, *(d for d in root.glob("*") if d.is_dir())):
        _restore_swaps(folder)
    for stage in Path(root).glob(f"{_STAGE}.*@{glob.escape(_HOST)}.*"):
        m = re.fullmatch(rf"{re.escape(_STAGE)}\.(\d+)@{re.escape(_HOST)}\.\w+", stage.name)
        if not m or not stage.is_dir() or _alive(int(m.group(1))):
            continue
        if (stage / _PLAN).is_file():
            _apply(Path(root), stage)
        else:
            shutil.rmtree(stage, ignore_errors=True)
    for folder in (root, *(d for d in root.glob("*") if d.is_dir())):
        _remove_dead_temporaries(folder)  # (staged commits are not temporaries: handled above)


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
