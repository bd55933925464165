"""Golden tensors on disk: build/<model>/golden/layers.npz, written and read in one place.

One .npz of int64 arrays (the input, every layer's tensor, `labels` where the flow has them).
The file may come from a user (`--golden PATH`), so it is read as data: no pickled objects,
and a missing, truncated or foreign file is one error naming it and the command that makes it.
Beside it, `source.json` names the model file the tensors were computed from and its SHA-256:
a golden folder older than the model (re-exported since) is refused, not compared against.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codesign import paths
from codesign.atomic import together
from codesign.errors import CodesignError

FILE = "layers.npz"
SOURCE = "source.json"


def path_for(model: str) -> Path:
    return paths.golden_dir(model) / FILE


def save(
    model: str,
    tensors: dict[str, np.ndarray],
    labels: np.ndarray | None = None,
    extra: dict[str, dict[str, np.ndarray]] | None = None,
    reports: dict[str, dict] | None = None,
) -> Path:
    """Replace build/<model>/golden/ as a whole with layers.npz (and `extra` files by name, e.g.
    the same tensors under another backend's layer names), compressed, together with
    `reports` (file name in reports/ -> content): all of them or none."""
    arrays = {k: np.asarray(v) for k, v in tensors.items()}
    if labels is not None:
        arrays["labels"] = np.asarray(labels, dtype=np.int64)
    onnx = paths.onnx_path(model)
    with together(paths.model_dir(model)) as staged:
        tmp = staged.dir(paths.golden_dir(model))
        for name, content in {FILE: arrays, **(extra or {})}.items():
            np.savez_compressed(tmp / name, **content)
        if onnx.is_file():
            source = paths.source_of(onnx, paths.model_dir(model))
            (tmp / SOURCE).write_text(json.dumps(source, indent=1) + "\n")
        for name, data in (reports or {}).items():
            staged.json(paths.reports_dir(model) / name, data)
    return path_for(model)


def _check_source(npz: Path, model: str | None) -> None:
    """Refuse golden tensors computed from another version of the model file they name (a
    golden folder copied away from its model, where that file is absent, is not judged)."""
    record = npz.parent / SOURCE
    if not record.is_file():
        return
    try:
        src = json.loads(record.read_text())
        model_dir = npz.parent.parent
        current = model_dir / src["file"]
        stale = current.is_file() and paths.source_of(current, model_dir)["sha256"] != src["sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise CodesignError(f"golden source record {record}: unreadable ({e})") from None
    if stale:
        again = f"codesign golden {model}" if model else "the golden step"
        raise CodesignError(
            f"golden tensors {npz} were computed from another {src['file']} (the model changed "
            f"since): run `{again}` again"
        )


def load(
    source: str | Path, required: tuple[str, ...] = (), model: str | None = None
) -> dict[str, np.ndarray]:
    """{name: int64 array} from a golden .npz; `required` names must be present. `model` (for
    the message): whose `codesign golden` makes the file."""
    p = Path(source)
    make = f" (run `codesign golden {model}`)" if model else " (run the golden step first)"
    if not p.is_file():
        raise CodesignError(f"golden tensors not found: {p}{make}")
    _check_source(p, model)
    try:
        with np.load(p, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except Exception as e:  # zip/npy format errors come in many types
        raise CodesignError(f"golden tensors {p}: not a readable .npz file ({e})") from None
    for k, v in out.items():
        if v.dtype.kind not in "iub":
            raise CodesignError(f"golden tensors {p}: '{k}' holds {v.dtype}, not integers")
        out[k] = v.astype(np.int64, copy=False)
    missing = [k for k in required if k not in out]
    if missing:
        raise CodesignError(f"golden tensors {p}: no array '{missing[0]}' (found {sorted(out)})")
    return out


def load_model(model: str, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """build/<model>/golden/layers.npz."""
    return load(path_for(model), required, model)
