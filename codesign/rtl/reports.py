"""JSON reports written to a temporary name then renamed (no half-written artefacts)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_report(report: dict, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, path)
