"""Golden-model throughput for a trained spiking model: synaptic operations per second of the
numpy event-driven golden executor next to PyTorch integer mode (conv-based) on the test split.

    python benchmarks/snn_speed.py --model delay_snn     (after `codesign train/export delay_snn`)
Writes build/benchmarks/snn_speed.json.
"""

from __future__ import annotations

import argparse
import time

from codesign import paths
from codesign.atomic import write_json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="delay_snn")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from codesign.snn import flow, golden
    from codesign.snn.report import statistics

    mod, cfg, net, _ = flow.load_trained(args.model)
    graph = flow.load_graph(args.model)
    _, _, x, _ = mod.data(cfg)
    best = {}
    for name, fn in (
        ("golden (one graph)", lambda: golden.run(graph, x)),
        ("pytorch integer mode", lambda: net.integer_forward(x, graph)),
    ):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    sop = statistics(graph, golden.run(graph, x))["sop_per_sample"] * len(x)
    rows = [
        {"executor": k, "seconds": round(v, 4), "samples_per_s": len(x) / v, "sop_per_s": sop / v}
        for k, v in best.items()
    ]
    print(f"{args.model}: {len(x)} test samples, {sop / len(x):.1f} SOP/sample")
    print(f"{'executor':<24}{'seconds':>10}{'samples/s':>12}{'SOP/s':>14}")
    for r in rows:
        print(
            f"{r['executor']:<24}{r['seconds']:>10.3f}{r['samples_per_s']:>12.0f}"
            f"{r['sop_per_s']:>14.3g}"
        )
    write_json(
        paths.build_root() / "benchmarks" / "snn_speed.json", {"model": args.model, "rows": rows}
    )


if __name__ == "__main__":
    main()
