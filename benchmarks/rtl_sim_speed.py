"""RTL simulation speed: simulated inferences per second of wall time, cycles vs the ideal.

Generates the model's RTL (the exported model with --onnx/--golden, else a synthetic
64-64-32-10 IntGraph), simulates every sample (three passes: latency, back-to-back, random
stalls) once with a fresh build and once with the cached build, for each bench: the fast one
(Verilator + C++ harness, `codesign/verify/fast_bench.py`) and the cocotb one under Verilator
and Icarus. `harness cyc/s` is the fast bench's own loop (no Python), the goal of >= 100,000
simulated cycles per second. Prints a table; JSON to build/benchmarks/rtl_sim_speed.json.

  python benchmarks/rtl_sim_speed.py                       # synthetic model, 360 samples
  python benchmarks/rtl_sim_speed.py --onnx build/digits_mlp/onnx/model.onnx \
      --golden build/digits_mlp/golden/layers.npz --flows flows/digits_mlp.yaml
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from codesign.atomic import write_json
from codesign.ir.chain import run
from codesign.rtl.folding import load_folding
from codesign.rtl.generate import generate
from codesign.rtl.synthetic import synthetic_inputs, synthetic_mlp
from codesign.verify.simulate import simulate

SYNTH_FOLD = {"fc0": (8, 16), "fc1": (4, 16), "fc2": (2, 8)}  # as flows/digits_mlp.yaml


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", default=None)
    ap.add_argument("--golden", default=None)
    ap.add_argument("--flows", default=None, help="flows/<model>.yaml with rtl.folding")
    ap.add_argument("--samples", type=int, default=360)
    ap.add_argument(
        "--benches",
        default="verilator/fast,verilator/cocotb,icarus/cocotb",
        help="simulator/bench pairs",
    )
    ap.add_argument("--work", default="build/benchmarks/rtl_sim_speed")
    ap.add_argument("--out", default="build/benchmarks/rtl_sim_speed.json")
    a = ap.parse_args(argv)
    if a.onnx:
        from codesign.ir.chain import load_int_graph

        graph = load_int_graph(a.onnx)
        golden = a.golden
        source = a.onnx
    else:
        graph = synthetic_mlp((64, 64, 32, 10), quantizer="post", seed=11, name="synth_mlp")
        golden = run(graph, synthetic_inputs(graph, a.samples, seed=12))
        source = "synthetic 64-64-32-10 (POST base sqrt(2), W4/A8)"
    if a.flows:
        fold = load_folding(a.flows, graph)
    else:
        fold = SYNTH_FOLD if not a.onnx else load_folding(None, graph)
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    man = generate(graph, fold, work / "rtl")
    rows = []
    for pair in a.benches.split(","):
        sim, bench = pair.split("/")
        opts = {"samples": a.samples, "simulator": sim, "build_dir": work, "bench": bench}
        t0 = time.perf_counter()
        first = simulate(work / "rtl", golden, **opts)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = simulate(work / "rtl", golden, **opts)
        t_run = time.perf_counter() - t0
        loop_s = sum(p.get("seconds", 0.0) for p in rep["passes"].values())
        rows.append(
            {
                "simulator": sim,
                "bench": bench,
                "harness_cycles_per_second": (
                    round(rep["cycles_simulated"] / loop_s) if bench == "fast" and loop_s else None
                ),
                "samples": rep["samples"],
                "mismatches": rep["mismatches_all_layers"] + first["mismatches_all_layers"],
                "inferences_simulated": rep["inferences_simulated"],
                "cycles_simulated": rep["cycles_simulated"],
                "first_run_seconds": round(t_first, 2),
                "cached_run_seconds": round(t_run, 2),
                "inferences_per_second": round(rep["inferences_simulated"] / t_run, 1),
                "cycles_per_second": round(rep["cycles_simulated"] / t_run, 1),
                "cycles_per_inference": rep["cycles_per_inference"],
                "ideal_cycles_per_inference": rep["ideal_cycles_per_inference"],
                "cycles_vs_ideal": round(rep["cycles_vs_ideal"], 4),
                "interval_cycles_per_inference": rep["interval_cycles_per_inference"],
                "ideal_interval_cycles": rep["ideal_interval_cycles"],
            }
        )
    print(f"model: {source}; folding {man['folding']}")
    hdr = (
        f"{'simulator':>10} {'bench':>6} {'samples':>7} {'mism.':>5} {'1st run s':>9} "
        f"{'cached s':>8} {'inf/s':>8} {'cycles/s':>9} {'harness cyc/s':>13} {'cyc/inf':>7} "
        f"{'ideal':>5} {'ratio':>6} {'interval':>8}"
    )
    print(hdr)
    for r in rows:
        print(
            f"{r['simulator']:>10} {r['bench']:>6} {r['samples']:>7} {r['mismatches']:>5} "
            f"{r['first_run_seconds']:>9} {r['cached_run_seconds']:>8} "
            f"{r['inferences_per_second']:>8} {r['cycles_per_second']:>9} "
            f"{str(r['harness_cycles_per_second']):>13} "
            f"{r['cycles_per_inference']:>7} {r['ideal_cycles_per_inference']:>5} "
            f"{r['cycles_vs_ideal']:>6} {r['interval_cycles_per_inference']:>8}"
        )
    write_json(
        a.out,
        {
            "model": source,
            "folding": man["folding"],
            "passes": "latency+stream+stall",
            "results": rows,
        },
    )
    print(f"-> {a.out}")
    return 0 if all(r["mismatches"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
