"""Run one sweep point (a Dask task): its stages in its own build folder, errors recorded.

Each point runs in its own workspace (codesign/paths.py, per thread). It still holds a
process-wide lock while it runs, because torch's random state and thread count are
process-global and training must be reproducible: a worker with several threads runs its points
one after the other (start workers with one thread each; the local cluster does).
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from codesign import paths
from codesign.atomic import write_json, write_with
from codesign.dse.stages import (
    DERIVED,
    METRICS,
    PointContext,
    metric_source,
    missing_module,
    plan,
    run_stage,
)

_LOCK = threading.Lock()


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the simulators it ran)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _one_line(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0] if msg else ''}".strip()


def run_point(
    model: str, params: dict[str, Any], point_dir: str, metrics: list[str], pid: str = ""
) -> dict[str, Any]:
    """Run the stages `metrics` need for one configuration; never raises for a stage failure.

    Returns {point_id, params, status ok|failed, error, metrics, unavailable, stages, worker,
    started, finished, seconds}; also written to <point_dir>/point.json.
    """
    with _LOCK:
        root = Path(point_dir).resolve()
        if root.exists():
            shutil.rmtree(root)  # leftovers of an interrupted attempt
        root.mkdir(parents=True)
        with paths.using_workspace(root):
            return _run(model, params, root, metrics, pid)


def _run(model: str, params: dict, root: Path, metrics: list[str], pid: str) -> dict:
    import torch

    # One point per core (the local cluster runs one single-threaded worker per core): more
    # torch threads than that only contend, and made training 30x slower on a busy machine.
    torch.set_num_threads(int(os.environ.get("CODESIGN_POINT_THREADS", "1")))
    t0, cpu0 = time.time(), _cpu_seconds()
    substrate = params.get("substrate", "asic45")
    ctx = PointContext(model, params, root)
    measured: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    stages: dict[str, dict] = {}
    errors: list[str] = []
    state: dict[str, str] = {}
    for stage in plan(metrics, substrate, model):
        blocked = [r for r in stage.requires if state.get(r) != "ok"]
        if blocked:
            b = blocked[0]  # name the stage at the root of the chain, not the one in between
            why = (
                stages[b]["reason"]
                if state.get(b) == "skipped"
                else f"needs stage {b} ({state[b]})"
            )
            state[stage.name] = "skipped"
            stages[stage.name] = {"status": "skipped", "reason": why}
            for m in stage.provides:
                unavailable[m] = f"{stage.name}: {why}"
            continue
        missing = missing_module(stage)
        if missing:
            state[stage.name] = "unavailable"
            stages[stage.name] = {"status": "unavailable", "reason": missing}
            for m in stage.provides:
                unavailable[m] = missing
            continue
        s0 = time.time()
        try:
            measured.update(run_stage(stage, ctx))
            state[stage.name] = "ok"
            stages[stage.name] = {"status": "ok", "seconds": round(time.time() - s0, 3)}
        except (Exception, SystemExit) as e:  # recorded; the sweep goes on (an argparse
            # SystemExit inside a backend must not end the worker process)
            state[stage.name] = "failed"
            err = f"stage {stage.name}: {_one_line(e)}"
            errors.append(err)
            stages[stage.name] = {"status": "failed", "error": err}
            ctx.log.write(traceback.format_exc())
            for m in stage.provides:
                unavailable[m] = err
    for m in metrics:
        if m not in DERIVED:
            continue
        src = metric_source(m, substrate)
        if src is None:
            unavailable[m] = f"substrate {substrate}: codesign has no model for {m}"
        elif src in measured:
            measured[m] = measured[src]
        else:
            unavailable[m] = unavailable.get(src, f"{src} not measured")
    for m in metrics:  # asked for, yet no stage of this model's pipeline measured it
        if m not in measured and m not in unavailable:
            st = METRICS.get(m)
            unavailable[m] = (
                f"stage {st} does not measure {m} for {model}"
                if st in state
                else f"{model} has no stage {st}"
            )
    out = {m: measured[m] for m in metrics if m in measured and m not in unavailable}
    for m, v in measured.items():  # everything a stage measured is kept, asked for or not
        out.setdefault(m, v)
    result = {
        "point_id": pid,
        "params": params,
        "status": "failed" if errors else "ok",
        "error": "; ".join(errors) or None,
        "metrics": out,
        "unavailable": unavailable,
        "stages": stages,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "started": t0,
        "finished": time.time(),
        "seconds": round(time.time() - t0, 3),
        "cpu_s": round(_cpu_seconds() - cpu0, 3),
    }
    write_with(root / "stages.log", lambda p: p.write_text(ctx.log.getvalue()))
    write_json(root / "point.json", result)
    return result
