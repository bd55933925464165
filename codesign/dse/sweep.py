"""`codesign sweep <model> --space flows/<model>.sweep.yaml`: run (or resume) a sweep on Dask.

Local cluster on every core by default; `--scheduler tcp://host:port` runs the same sweep on an
existing Dask cluster (its workers need this package installed and the same build folder path).
Rerunning the same command resumes: finished points are skipped. Ends with the Pareto analysis.
"""

from __future__ import annotations

import argparse
import sys

from codesign.errors import ArgumentParser, CodesignError, at_least


def build_parser() -> argparse.ArgumentParser:
    ap = ArgumentParser(prog="codesign sweep", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="zoo model name")
    ap.add_argument("--space", help="sweep space YAML (default flows/<model>.sweep.yaml)")
    ap.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:port)")
    ap.add_argument("--workers", type=at_least(1), help="local cluster size (default: all cores)")
    ap.add_argument("--sampler", choices=("grid", "random", "optuna"), help="override the space's")
    ap.add_argument("--samples", type=at_least(1), help="points for random / trials for optuna")
    ap.add_argument("--name", help="sweep name (default: the space's name)")
    ap.add_argument("--retry-failed", action="store_true", help="rerun points that failed before")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--no-pareto", action="store_true", help="skip the Pareto analysis at the end")
    return ap


def main(argv: list[str]) -> int:
    """Exit 0 when every point of the sweep is ok, 1 when some failed, 2 on bad input."""
    a = build_parser().parse_args(argv)
    try:
        from codesign.dse.execute import run_sweep
        from codesign.dse.space import load_space
        from codesign.paths import FLOWS_DIR

        path = a.space or FLOWS_DIR / f"{a.model}.sweep.yaml"
        space = load_space(path, a.model)
        if a.name:
            space.name = a.name
        if a.sampler:
            space.sampler = a.sampler
        if a.samples is not None:
            if a.samples < 1:
                raise CodesignError(f"--samples must be >= 1, got {a.samples}")
            space.samples = a.samples
        if space.sampler == "optuna" and (not space.objectives or not space.samples):
            raise CodesignError(f"{path}: sampler optuna needs objectives and samples")
        if a.workers is not None and a.workers < 1:
            raise CodesignError(f"--workers must be >= 1, got {a.workers}")
        stats = run_sweep(space, a.scheduler, a.workers, a.retry_failed, bar=not a.no_progress)
        rep = stats.get("repeats")
        print(
            f"sweep {space.name}: {stats['points']} points ({stats['skipped']} already done), "
            f"ran {stats['ran']}: {stats['ok']} ok, {stats['failed']} failed; "
            + (f"{rep} repeated suggestions told from the table; " if rep else "")
            + f"{stats['workers']} workers on {stats['scheduler']}, {stats['seconds']} s\n"
            f"table: {stats['table']}"
        )
        from codesign.dse.store import Store

        with Store(stats["table"]) as st:
            failed = st.rows("failed")
        for r in failed[:10]:
            print(f"  failed {r['point_id']} {r['params']}: {r['error']}", file=sys.stderr)
        if not a.no_pareto:
            from codesign.dse.pareto import pareto, text_report

            print(text_report(pareto(stats["sweep_dir"])))
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
