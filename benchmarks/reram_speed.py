"""Tile MVMs per second of the ReRAM crossbar model (issue 9 target: >= 50 k at batch 1,
>= 300 k at batch 256; aihwkit's noisy inference tile: ~21 k and ~80-146 k on this machine).

256 x 256 tile, programming noise + per-read 1/f read noise + drift (t = 1 h, global drift
compensation) on, 7-bit DAC, 9-bit ADC (aihwkit out_bound 12), energy accounting on.
Prints a table and writes build/benchmarks/reram_speed.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.tile import FloatTile

TARGETS = {1: 50_000, 256: 300_000}
AIHWKIT_REF = {1: "~21 k", 256: "~80-146 k"}  # issue 9, measured on this machine by its author


def measure(batch: int, seconds: float = 2.0, repeats: int = 3) -> dict:
    """Best of `repeats` timed loops of at least `seconds` each (after a warm-up).

    Reports wall-clock MVM/s (the headline) and MVM per CPU-second of this process (all its
    threads), which is less sensitive to other jobs sharing the machine.
    """
    cfg = CrossbarConfig(
        dac_bits=7,
        adc_bits=9,
        adc_range=12.0,
        prog_noise=1.0,
        read_noise=1.0,
        drift=1.0,
        t_inference_s=3600.0,
        levels=256,
    )
    rng = np.random.default_rng(0)
    tile = FloatTile(rng.uniform(-1, 1, size=(256, 256)), cfg, seed=0)
    x = rng.uniform(-1, 1, size=(batch, 256)).astype(np.float32)
    for _ in range(50):
        tile(x)
    best = best_cpu = 0.0
    for _ in range(repeats):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            for _ in range(100 if batch == 1 else 5):
                tile(x)
            n += 100 if batch == 1 else 5
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        best = max(best, n * batch / dt)
        best_cpu = max(best_cpu, n * batch / max(time.process_time() - c0, 1e-9))
    return {
        "batch": batch,
        "mvm_per_s": best,
        "mvm_per_cpu_s": best_cpu,
        "target": TARGETS[batch],
        "meets_target": best >= TARGETS[batch],
        "aihwkit_reference": AIHWKIT_REF[batch],
    }


def main() -> int:
    load0 = os.getloadavg()[0]
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    rows = []
    for b in (1, 256):
        best = None
        for threads in (1, 2):  # BLAS threads; 1 is faster when other jobs share the CPUs
            with threadpool_limits(limits=threads, user_api="blas"):
                r = measure(b)
            r["blas_threads"] = threads
            if best is None or r["mvm_per_s"] > best["mvm_per_s"]:
                best = r
        rows.append(best)
    load1 = os.getloadavg()[0]
    print(
        f"{'batch':>5} | {'MVM/s':>10} | {'MVM/CPU-s':>10} | {'target':>8} | {'ok':>3} | "
        "aihwkit (issue)"
    )
    for r in rows:
        print(
            f"{r['batch']:>5} | {r['mvm_per_s']:>10,.0f} | {r['mvm_per_cpu_s']:>10,.0f} | "
            f"{r['target']:>8,} | {'yes' if r['meets_target'] else 'NO':>3} | "
            f"{r['aihwkit_reference']}"
        )
    print(f"load average during the run: {load0:.2f} -> {load1:.2f} on {os.cpu_count()} CPUs")
    out = Path("build/benchmarks/reram_speed.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_start": load0,
        "loadavg_end": load1,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps({"results": rows, "env": info, "tile": "256x256"}, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0 if all(r["meets_target"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
