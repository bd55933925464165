"""Golden-model throughput on the test split next to onnxruntime on the same exported model.

Usage: python benchmarks/golden_speed.py [--model digits_mlp] [--repeats 20]
Prints a table and writes build/benchmarks/golden_speed.json. Run `codesign demo` first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnx
import onnxruntime as ort

from codesign import paths
from codesign.atomic import write_json
from codesign.ir import chain
from codesign.ir.chain import load_int_graph
from codesign.ir.to_onnxruntime import to_onnxruntime
from codesign.models import zoo


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits_mlp")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    path = paths.onnx_path(args.model)
    graph = load_int_graph(path, args.model)
    _, _, xte, _ = zoo.module(args.model).data()
    sess = ort.InferenceSession(
        to_onnxruntime(onnx.load(str(path))).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = {sess.get_inputs()[0].name: xte.astype(np.float32)}
    n = len(xte)
    rows = {}
    t = best_of(lambda: chain.run_float(graph, xte), args.repeats)
    rows["golden (numpy integer, batch)"] = n / t
    t = best_of(lambda: sess.run(None, feed), args.repeats)
    rows["onnxruntime (float32, batch)"] = n / t
    g_out = chain.run_float(graph, xte)[graph.layers[-1].name]
    o_out = sess.run(None, feed)[0] / 2.0**graph.output_q.scale_exp
    agree = float((np.round(o_out).astype(np.int64) == g_out).mean())
    print(f"{'engine':<32}{'samples/s':>14}")
    for k, v in rows.items():
        print(f"{k:<32}{v:>14.0f}")
    ratio = rows["golden (numpy integer, batch)"] / rows["onnxruntime (float32, batch)"]
    print(f"golden / onnxruntime throughput ratio: {ratio:.2f}")
    print(f"onnxruntime float32 outputs equal to golden integers: {100 * agree:.2f} %")
    out = write_json(
        paths.build_root() / "benchmarks" / "golden_speed.json",
        {
            "model": args.model,
            "samples": n,
            "samples_per_s": rows,
            "ratio_golden_over_onnxruntime": ratio,
            "onnxruntime_equal_fraction": agree,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
