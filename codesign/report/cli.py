"""`codesign report <model>` writes build/<model>/report/index.html; `--all` adds an index.

The energy rows come from reports/energy.json when it already has substrate rows; otherwise
they are computed from the existing simulator reports (codesign.energy.cli.compute) and the
energy report is written too, so the page and the JSON never disagree.
"""

from __future__ import annotations

import sys

from codesign import paths
from codesign.atomic import atomic_dir, write_json
from codesign.energy.cli import ALL_TARGETS, compute
from codesign.errors import ArgumentParser, CodesignError
from codesign.report import page


def energy_for(model: str) -> dict:
    """energy.json with every target (computed and written when it lacks them)."""
    import json

    p = paths.reports_dir(model) / "energy.json"
    if p.is_file():
        e = json.loads(p.read_text())
        if set(e.get("targets", {})) >= set(ALL_TARGETS):
            return e
    e = compute(model, list(ALL_TARGETS))
    write_json(p, e)
    return e


def build_model(model: str) -> str:
    """Write the model's page; returns its path."""
    if not paths.reports_dir(model).is_dir():
        raise CodesignError(f"model '{model}': no reports under {paths.reports_dir(model)}")
    energy = energy_for(model)
    out = paths.model_dir(model) / "report"
    with atomic_dir(out) as tmp:
        page.build(model, energy, tmp)
    return str(out / "index.html")


def main(argv: list[str]) -> int:
    """Entry point of the `report` verb."""
    ap = ArgumentParser(prog="codesign report", description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--all", action="store_true", help="every zoo model with reports, + index")
    args = ap.parse_args(argv)
    if bool(args.model) == bool(args.all):
        raise CodesignError("report: give a model name or --all (not both)")
    if not args.all:
        print(build_model(args.model))
        return 0
    from codesign.models import zoo

    done = []
    for m in zoo.names():
        if not paths.reports_dir(m).is_dir():
            print(f"{m}: skipped (no reports under {paths.reports_dir(m)})")
            continue
        print(build_model(m))
        done.append((m, energy_for(m)))
    if not done:
        raise CodesignError(f"report --all: no model has reports under {paths.build_root()}")
    print(page.index(done, paths.build_root() / "report" / "index.html"))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        sys.exit(2)
