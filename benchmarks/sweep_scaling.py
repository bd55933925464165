"""Scale-out evidence: the same sweep on a local Dask cluster of 1 worker, then of N workers.

Usage: python benchmarks/sweep_scaling.py [--space flows/digits_mlp.sweep.yaml] [--workers 1 2]
       [--metrics accuracy,energy_pJ,rtl_mismatches,cycles]   (e.g. without Yosys synthesis)
Each run starts from an empty sweep folder (build/sweeps/<name>-bench-w<N>/), so nothing is
resumed; prints a table (wall time, points/min, speed-up, efficiency) and writes
build/benchmarks/sweep_scaling.json. It also checks that every point's metrics are identical
whatever the worker count (single-threaded, seeded points are deterministic).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

from codesign import paths
from codesign.atomic import write_json
from codesign.dse.execute import run_sweep, sweep_dir
from codesign.dse.space import load_space
from codesign.dse.stages import METRICS
from codesign.dse.store import Store


def one_run(space_path: str, workers: int, metrics: list[str] | None) -> dict:
    space = load_space(space_path)
    space.name = f"{space.name}-bench-w{workers}"
    if metrics:
        space.metrics = metrics
    root = sweep_dir(space.name)
    if root.exists():
        shutil.rmtree(root)  # this benchmark's own folder: start cold, resume nothing
    load0 = os.getloadavg()[0]
    c0 = time.process_time()
    stats = run_sweep(space, workers=workers, bar=True)
    with Store(stats["table"]) as st:
        rows = st.rows()
    return {
        "workers": workers,
        "wall_s": stats["seconds"],
        "points": len(rows),
        "ok": sum(r["status"] == "ok" for r in rows),
        "failed": sum(r["status"] == "failed" for r in rows),
        "sum_point_s": round(sum(r["seconds"] or 0 for r in rows), 2),
        "sum_point_cpu_s": round(sum(r["cpu_s"] or 0 for r in rows), 2),
        "client_cpu_s": round(time.process_time() - c0, 2),
        "loadavg_1min_before": load0,
        "loadavg_1min_after": os.getloadavg()[0],
        "metrics": {r["point_id"]: r["metrics"] for r in rows},
        "table": stats["table"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default=str(paths.FLOWS_DIR / "digits_mlp.sweep.yaml"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--metrics", help="comma list replacing the space's metrics (e.g. no synth)")
    args = ap.parse_args()
    metrics = args.metrics.split(",") if args.metrics else None
    unknown = [m for m in metrics or [] if m not in METRICS]
    if unknown:
        ap.error(f"unknown metric(s) {unknown} (known: {', '.join(METRICS)})")
    runs = [one_run(args.space, w, metrics) for w in args.workers]
    base = runs[0]
    same = all(r["metrics"] == base["metrics"] for r in runs[1:])
    print(f"\nsweep {args.space}: {base['points']} points, cores {os.cpu_count()}")
    print(
        f"{'workers':>7} {'wall s':>8} {'points/min':>10} {'speed-up':>8} {'efficiency':>10} "
        f"{'CPU s':>7} {'cores used':>10} {'load before/after':>17}"
    )
    for r in runs:
        r["points_per_min"] = round(60 * r["points"] / r["wall_s"], 2)
        r["speedup"] = round(base["wall_s"] / r["wall_s"] * base["workers"], 3)
        r["efficiency"] = round(r["speedup"] / r["workers"], 3)
        r["cores_used"] = round(r["sum_point_cpu_s"] / r["wall_s"], 2)
        print(
            f"{r['workers']:>7} {r['wall_s']:>8.1f} {r['points_per_min']:>10.2f} "
            f"{r['speedup']:>8.2f} {r['efficiency']:>10.2f} {r['sum_point_cpu_s']:>7.1f} "
            f"{r['cores_used']:>10.2f} "
            f"{r['loadavg_1min_before']:>8.1f}/{r['loadavg_1min_after']:<8.1f}"
        )
    print(f"metrics identical across worker counts: {same}")
    out = paths.build_root() / "benchmarks" / "sweep_scaling.json"
    doc = {
        "space": args.space,
        "metrics": metrics or "the space's",
        "cores": os.cpu_count(),
        "metrics_identical": same,
        "runs": [{k: v for k, v in r.items() if k != "metrics"} for r in runs],
        "note": "speed-up = wall(1 worker) / wall(N workers); the machine is shared, so the "
        "1-minute load average before/after each run is recorded next to it; cores_used = "
        "CPU seconds of all points (workers + their simulator children) / wall seconds",
    }
    write_json(out, doc)
    print(f"wrote {out}")
    print(json.dumps({r["workers"]: r["speedup"] for r in runs}))


if __name__ == "__main__":
    main()
