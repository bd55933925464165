"""manifest.json: what a generated RTL folder says about itself, one schema for every generator.

The MVU chain, the spiking core, the CoDeNet accelerator, the delta layer and a standalone
stage unit each write their folder's manifest through `write`; testbenches, lint, synthesis
and reports read it through `load`. Common keys, checked on both sides:

  schema    this file's version (SCHEMA)
  kind      which generator: one of KINDS
  model     the model (or unit) the folder was generated for
  top       the top module; `top_file` the file that holds it
  sources   Verilog files of the folder, in read order (file names, never paths)

Everything else is the generator's own (layers, params, tables, ...). No key holds an absolute
path, so the same model gives the same manifest in any checkout. `source` (optional): the file
the RTL was generated from and its SHA-256, so a simulation of RTL older than its model is
refused (`check_source`).
"""

from __future__ import annotations

import json
from pathlib import Path

from codesign import paths
from codesign.errors import CodesignError

SCHEMA = 1
FILE = "manifest.json"
KINDS = ("mvu", "snn", "codenet", "delta", "stage")
COMMON = {"schema": int, "kind": str, "model": str, "top": str, "top_file": str, "sources": list}


def make(kind: str, model: str, top: str, sources: list[str], **own) -> dict:
    """A manifest with the common keys first, then the generator's own."""
    man = {"schema": SCHEMA, "kind": kind, "model": model, "top": top, "top_file": f"{top}.v"}
    man["sources"] = list(sources)
    man.update(own)
    _check(man, f"{kind} manifest of '{model}'")
    return man


def write(folder: str | Path, man: dict) -> Path:
    """manifest.json into `folder` (the generator's temporary folder, renamed as a whole)."""
    _check(man, f"manifest for {folder}")
    path = Path(folder) / FILE
    path.write_text(json.dumps(man, indent=2) + "\n")
    return path


def load(rtl_dir: str | Path, kind: str | None = None) -> dict:
    """The manifest of a generated folder; one error naming the folder if it is missing, not
    JSON, not of this schema or (given `kind`) from another generator."""
    path = Path(rtl_dir) / FILE
    if not path.is_file():  # build/<model>/rtl names its model
        model = path.parent.parent.name if path.parent.name == "rtl" else "<model>"
        raise CodesignError(f"no generated RTL in {rtl_dir} (run `codesign rtl {model}` first)")
    try:
        man = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CodesignError(f"{path}: not a readable manifest ({e})") from None
    _check(man, str(path))
    if kind is not None and man["kind"] != kind:
        raise CodesignError(f"{path}: RTL of kind '{man['kind']}', not the '{kind}' expected here")
    return man


def _check(man: object, where: str) -> None:
    if not isinstance(man, dict):
        raise CodesignError(f"{where}: not a JSON object")
    if "schema" not in man and "top" in man:
        raise CodesignError(f"{where}: written by an older codesign; generate the RTL again")
    for key, typ in COMMON.items():
        if not isinstance(man.get(key), typ):
            raise CodesignError(f"{where}: key '{key}' missing or not a {typ.__name__}")
    if man["schema"] != SCHEMA:
        raise CodesignError(
            f"{where}: manifest schema {man['schema']}, this codesign reads {SCHEMA}"
        )
    if man["kind"] not in KINDS:
        raise CodesignError(f"{where}: unknown kind '{man['kind']}' (known: {', '.join(KINDS)})")
    bad = [s for s in man["sources"] if not isinstance(s, str) or "/" in s or "\\" in s]
    if bad or man["top_file"] not in man["sources"]:
        raise CodesignError(f"{where}: sources must be file names including top_file, got {bad}")


def check_source(man: dict, model_dir: Path, model: str) -> None:
    """Refuse RTL generated from another version of its source file (a re-export since)."""
    src = man.get("source")
    if not src:
        return
    path = Path(model_dir) / src["file"]
    if not path.is_file() or paths.source_of(path, model_dir)["sha256"] != src["sha256"]:
        raise CodesignError(
            f"{Path(model_dir) / 'rtl'} was generated from another {src['file']} (the model "
            f"changed since): run `codesign rtl {model}` again"
        )
