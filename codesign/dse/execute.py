"""Run a sweep on Dask distributed: a local cluster of worker processes, or an existing scheduler.

Why Dask distributed (not Ray): it is pure Python on PyPI (no ~200 MB wheel of its own runtime),
its LocalCluster of processes is the same API as a remote `tcp://host:port` scheduler, futures
and `as_completed` are exactly the "submit points, record each as it finishes" pattern, and
`dask scheduler` / `dask worker` (or dask-jobqueue on a batch cluster) scale it out unchanged.

Each point is one task (codesign.dse.point.run_point) with its own build folder; results come
back to this process and go into the SQLite table as they finish; a failed point is a row with
its error; a resumed sweep skips the rows already there. Optuna drives model-based search.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from codesign import paths
from codesign.dse.point import run_point
from codesign.dse.space import Space, point_id
from codesign.dse.store import Store
from codesign.errors import CodesignError


def sweeps_root() -> Path:
    return paths.build_root() / "sweeps"


def sweep_dir(name: str) -> Path:
    return sweeps_root() / name


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Client on `scheduler`, or on a local cluster of `workers` single-threaded processes.

    The local cluster binds to 127.0.0.1 only and has no dashboard; its workers are processes
    (torch is per process), one thread each, one per core by default.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise CodesignError(f"cannot reach Dask scheduler {scheduler}: {e}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise CodesignError(f"--workers must be >= 1, got {n}")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _probe() -> str:
    """Runs on each worker: proves it can import codesign (the task code)."""
    import codesign.dse.point

    return codesign.dse.point.__file__


def check_workers(client: Any, timeout: float = 60) -> int:
    """Wait for a worker and check every worker imports codesign; returns the worker count."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise CodesignError(f"no Dask worker joined {client.scheduler.address}") from None
    try:
        found = client.run(_probe)
    except Exception as e:
        raise CodesignError(f"Dask workers cannot import codesign: {e}") from None
    return len(found)


def _lost(pid: str, params: dict, exc: BaseException) -> dict:
    """The row of a point whose task itself failed (worker killed, lost, unpicklable)."""
    return {
        "point_id": pid,
        "params": params,
        "status": "failed",
        "error": f"task: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
        "metrics": {},
        "unavailable": {},
        "stages": {},
        "worker": None,
        "started": None,
        "finished": time.time(),
        "seconds": None,
    }


class Progress:
    """A tqdm bar on a terminal; one line per finished point otherwise (CI logs, pipes)."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool = True) -> None:
        tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, initial=initial, desc=desc, disable=not (enabled and tty))
        self.lines = enabled and not tty
        self.n, self.total = initial, total

    def done(self, res: dict, stats: dict) -> None:
        self.n += 1
        self.bar.update(1)
        self.bar.set_postfix(ok=stats["ok"], failed=stats["failed"])
        if self.lines:
            err = f": {res['error']}" if res.get("error") else ""
            print(
                f"[{self.n}/{self.total}] {res['point_id']} {res['status']} "
                f"({res.get('seconds')} s){err}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        self.bar.close()


class Sweep:
    """One sweep folder: build/sweeps/<name>/{results.sqlite, points/<id>/}."""

    def __init__(self, space: Space, root: Path | None = None) -> None:
        self.space = space
        self.root = Path(root or sweep_dir(space.name)).resolve()
        self.store = Store(self.root / "results.sqlite")
        self.store.set_meta("space", space.to_dict())

    def submit(self, client: Any, params: dict) -> tuple[str, Any]:
        pid = point_id(self.space.model, params)
        fut = client.submit(
            run_point,
            self.space.model,
            params,
            str(self.root / "points" / pid),
            self.space.metrics,
            pid,
            key=f"point-{pid}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )
        return pid, fut

    def collect(self, fut: Any, pid: str, params: dict) -> dict:
        """The point's result (or a failed row if the task died) recorded in the table."""
        if fut.status == "error":
            res = _lost(pid, params, fut.exception())
        else:
            res = fut.result()
        self.store.record(res)
        return res

    def pending(self, retry_failed: bool = False) -> tuple[list[dict], list[dict]]:
        """(all points, points still to run) of a grid or random sweep."""
        pts = self.space.points()
        done = self.finished(retry_failed)
        return pts, [p for p in pts if point_id(self.space.model, p) not in done]

    def finished(self, retry_failed: bool = False) -> dict[str, dict]:
        """Rows a resumed sweep keeps: ok (and failed unless retry_failed) rows that cover every
        metric now asked for (measured or recorded unavailable) and had no stage unavailable
        whose backend can be imported now; the others are run again."""
        from codesign.dse.stages import STAGE_BY_NAME, missing_module

        keep = self.store.finished_ids(retry_failed)
        now: dict[str, bool] = {}

        def appeared(stage: str) -> bool:
            if stage not in now:
                st = STAGE_BY_NAME.get(stage)
                now[stage] = st is not None and missing_module(st) is None
            return now[stage]

        out = {}
        for r in self.store.rows():
            if r["point_id"] not in keep:
                continue
            if r["status"] == "ok":
                if not all(m in r["metrics"] or m in r["unavailable"] for m in self.space.metrics):
                    continue
                gone = [s for s, v in r["stages"].items() if v.get("status") == "unavailable"]
                if any(appeared(s) for s in gone):
                    continue
            out[r["point_id"]] = r
        return out

    def close(self) -> None:
        self.store.close()


def run_grid(sweep: Sweep, client: Any, retry_failed: bool = False, bar: bool = True) -> dict:
    """Grid or random sampler: submit every unfinished point, record each as it finishes."""
    from distributed import as_completed

    pts, todo = sweep.pending(retry_failed)
    futs = {}
    for p in todo:
        pid, fut = sweep.submit(client, p)
        futs[fut] = (pid, p)
    stats = {"points": len(pts), "skipped": len(pts) - len(todo), "ran": 0, "ok": 0, "failed": 0}
    pb = Progress(len(pts), stats["skipped"], sweep.space.name, bar)
    try:
        for fut in as_completed(list(futs)):
            pid, p = futs[fut]
            res = sweep.collect(fut, pid, p)
            stats["ran"] += 1
            stats[res["status"]] += 1
            pb.done(res, stats)
    finally:
        pb.close()
    return stats


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _values(space: Space, metrics: dict) -> list[float] | None:
    out = []
    for k in space.objectives:
        v = metrics.get(k)
        if not isinstance(v, int | float) or isinstance(v, bool):
            return None
        out.append(float(v))
    return out


def run_optuna(
    sweep: Sweep, client: Any, workers: int, retry_failed: bool = False, bar: bool = True
) -> dict:
    """Model-based search (Optuna TPE, multi-objective) with up to `workers` points in flight.

    Finished rows of the same space are told to the study first, so a resumed search continues
    from what it knew; a configuration already measured is told from the table, not re-run.
    """
    import optuna
    from distributed import as_completed

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = sweep.space
    dists, decode = {}, {}
    for a, vals in space.axes.items():
        if all(isinstance(v, str | int | float | bool) for v in vals):
            dists[a] = optuna.distributions.CategoricalDistribution(vals)
            decode[a] = dict(zip(vals, vals, strict=True))
        else:  # mappings (rtl.folding) are chosen by index
            dists[a] = optuna.distributions.CategoricalDistribution(list(range(len(vals))))
            decode[a] = dict(enumerate(vals))
    encode = {a: {_key(v): k for k, v in decode[a].items()} for a in space.axes}
    directions = ["maximize" if d == "max" else "minimize" for d in space.objectives.values()]
    study = optuna.create_study(
        directions=directions, sampler=optuna.samplers.TPESampler(seed=space.seed)
    )
    known: dict[str, dict] = {}
    for row in sweep.finished(retry_failed).values():
        p = row["params"]
        if any(p.get(k) != v for k, v in space.fixed.items()) or set(p) != {
            *space.fixed,
            *space.axes,
        }:
            continue
        try:
            enc = {a: encode[a][_key(p[a])] for a in space.axes}
        except KeyError:
            continue  # a value outside the current axes
        known[row["point_id"]] = row
        vals = _values(space, row["metrics"]) if row["status"] == "ok" else None
        state = optuna.trial.TrialState.COMPLETE if vals else optuna.trial.TrialState.FAIL
        study.add_trial(
            optuna.trial.create_trial(params=enc, distributions=dists, values=vals, state=state)
        )
    target = space.samples or 0
    told = len(known)
    stats = {"points": target, "skipped": told, "ran": 0, "ok": 0, "failed": 0, "repeats": 0}
    ac = as_completed()
    flight: dict[str, tuple[Any, dict, list]] = {}
    fut_pid: dict[Any, str] = {}
    pb = Progress(target, min(told, target), space.name, bar)

    def tell(trial: Any, row: dict) -> None:
        nonlocal told
        vals = _values(space, row["metrics"]) if row["status"] == "ok" else None
        if vals is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, vals)
        told += 1
        pb.done(row, stats)

    def fill() -> None:
        while told + sum(len(t) for _, _, t in flight.values()) < target and len(flight) < workers:
            trial = study.ask(dists)
            params = {**space.fixed, **{a: decode[a][trial.params[a]] for a in space.axes}}
            pid = point_id(space.model, params)
            if pid in known:
                stats["repeats"] += 1
                tell(trial, known[pid])
            elif pid in flight:
                flight[pid][2].append(trial)
            else:
                _, fut = sweep.submit(client, params)
                flight[pid] = (fut, params, [trial])
                fut_pid[fut] = pid
                ac.add(fut)

    try:
        fill()
        for fut in ac:
            pid = fut_pid.pop(fut)
            _, params, trials = flight.pop(pid)
            res = sweep.collect(fut, pid, params)
            known[pid] = res
            stats["ran"] += 1
            stats[res["status"]] += 1
            for t in trials:
                tell(t, res)
            fill()
    finally:
        pb.close()
    return stats


def run_sweep(
    space: Space,
    scheduler: str | None = None,
    workers: int | None = None,
    retry_failed: bool = False,
    root: Path | None = None,
    bar: bool = True,
) -> dict:
    """Run (or resume) a sweep; returns counts, seconds, worker count and the table's path."""
    t0 = time.time()
    sweep = Sweep(space, root)
    try:
        if space.sampler != "optuna":
            pts, todo = sweep.pending(retry_failed)
            if not todo:  # nothing left: no cluster to start
                return {
                    **{"points": len(pts), "skipped": len(pts), "ran": 0, "ok": 0, "failed": 0},
                    "workers": 0,
                    "scheduler": "none needed",
                    "seconds": round(time.time() - t0, 2),
                    "table": str(sweep.root / "results.sqlite"),
                    "sweep_dir": str(sweep.root),
                }
        with dask_client(scheduler, workers) as client:
            n = check_workers(client)
            if space.sampler == "optuna":
                stats = run_optuna(sweep, client, n, retry_failed, bar)
            else:
                stats = run_grid(sweep, client, retry_failed, bar)
    finally:
        sweep.close()
    return {
        **stats,
        "workers": n,
        "scheduler": scheduler or "local",
        "seconds": round(time.time() - t0, 2),
        "table": str(sweep.root / "results.sqlite"),
        "sweep_dir": str(sweep.root),
    }
