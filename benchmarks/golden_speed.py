"""Golden-model throughput next to onnxruntime on the same model and the same inputs.

Usage: python benchmarks/golden_speed.py [--models digits_mlp cnv_w2a2] [--repeats 20]
digits_mlp is the zoo model's export (run `codesign demo` first) on its test split; a name from
the import corpus (cnv_w2a2, tfc_w1a1, ...) is built in a temporary folder and run on
--samples of its sample inputs. Both sides run from the float input: the golden executor on the
one graph (int64), onnxruntime on the QONNX file with its quantizers folded to plain ONNX
(`ir/to_onnxruntime.py`, float32). Prints a table and writes build/benchmarks/golden_speed.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from codesign import paths
from codesign.atomic import write_json
from codesign.graph import corpus, execute
from codesign.graph.frontends import qonnx as frontend
from codesign.ir.to_onnxruntime import to_onnxruntime
from codesign.models import zoo


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def model_and_inputs(name: str, samples: int, work: Path) -> tuple[Path, np.ndarray]:
    if name in corpus.NAMES:
        return corpus.build(name, work), corpus.sample_inputs(name, samples)
    _, _, xte, _ = zoo.module(name).data()
    return paths.onnx_path(name), xte


def measure(name: str, samples: int, repeats: int, work: Path) -> dict:
    path, x = model_and_inputs(name, samples, work)
    proto = frontend.load(path)
    graph = frontend.import_model(proto, name).graph
    plain = to_onnxruntime(frontend.normalise(proto).model)
    sess = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    one = ort.SessionOptions()
    one.intra_op_num_threads = one.inter_op_num_threads = 1
    sess1 = ort.InferenceSession(plain.SerializeToString(), one, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x.astype(np.float32)}
    xf = x.astype(np.float64)
    t_golden = best_of(lambda: execute.run(graph, xf), repeats)
    t_ort = best_of(lambda: sess.run(None, feed), repeats)
    t_ort1 = best_of(lambda: sess1.run(None, feed), repeats)
    out = graph.tensors[graph.outputs[0]]
    q = execute.run(graph, xf)[out.name]
    real = q * out.real.scale.astype(np.float64) + out.real.offset.astype(np.float64)
    o = sess.run(None, feed)[0].reshape(real.shape).astype(np.float64)
    return {
        "model": name,
        "samples": int(len(x)),
        "golden_samples_per_s": len(x) / t_golden,
        "onnxruntime_samples_per_s": len(x) / t_ort,
        "ratio_golden_over_onnxruntime": t_ort / t_golden,
        # the golden executor runs on one core (numpy; BLAS may use more): the same on one thread
        "onnxruntime_1thread_samples_per_s": len(x) / t_ort1,
        "ratio_golden_over_onnxruntime_1thread": t_ort1 / t_golden,
        "max_abs_difference": float(np.abs(o - real).max()),
        "argmax_agreement": float((o.argmax(axis=1) == real.argmax(axis=1)).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["digits_mlp", "cnv_w2a2"])
    ap.add_argument("--samples", type=int, default=100, help="inputs of a corpus model")
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(m, args.samples, args.repeats, Path(tmp)) for m in args.models]
    head = f"{'model':<12}{'samples':>8}{'golden/s':>12}{'onnxrt/s':>12}{'ratio':>7}"
    head += f"{'1-thread ratio':>16}"
    print(head + f"{'max |diff|':>12}{'argmax eq':>10}")
    for r in rows:
        print(
            f"{r['model']:<12}{r['samples']:>8}{r['golden_samples_per_s']:>12.0f}"
            f"{r['onnxruntime_samples_per_s']:>12.0f}{r['ratio_golden_over_onnxruntime']:>7.2f}"
            f"{r['ratio_golden_over_onnxruntime_1thread']:>16.2f}"
            f"{r['max_abs_difference']:>12.2e}{100 * r['argmax_agreement']:>9.1f}%"
        )
    out = write_json(paths.build_root() / "benchmarks" / "golden_speed.json", {"models": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
