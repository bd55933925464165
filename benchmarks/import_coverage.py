"""The importer on external QONNX models: golden vs qonnx's executor, every layer, N inputs.

Models: FINN's bnn_pynq TFC/SFC/LFC/CNV (w1a1, w1a2, w2a2) exported with brevitas, a brevitas
MLP and LeNet with brevitas' default (float-scale) quantizers trained on sklearn digits, and the
quantized models shipped inside the installed qonnx package. Prints a table and writes
build/benchmarks/import_coverage.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from codesign import importer, paths
from codesign.errors import CodesignError
from codesign.graph import corpus
from codesign.graph.frontends.qonnx import InputQuant

# shipped qonnx files: how their input is quantized where the file does not say (8-bit images)
SHIPPED_INPUT = {"espcn_subpixel": InputQuant(float(np.float32(1 / 255)), 8)}


def _inputs(name: str, n: int) -> np.ndarray:
    if name in corpus.NAMES:
        return corpus.sample_inputs(name, n)
    rng = np.random.default_rng(0)  # 8-bit images k/255 for the shipped image models
    shape = {"espcn_subpixel": (3, 128, 128), "espcn_nn_resize": (3, 128, 128)}.get(name)
    if shape is None:
        return rng.uniform(0, 1, size=(n, 3, 224, 224)).astype(np.float32)
    return (rng.integers(0, 256, size=(n, *shape)) / 255).astype(np.float32)


def run_one(name: str, path: Path, n: int, work: Path) -> dict:
    x = _inputs(name, n)
    data = work / f"{name}.npz"
    np.savez(data, x=x.reshape(n, *x.shape[1:]))
    t0 = time.perf_counter()
    try:
        r = importer.import_file(path, name, data, SHIPPED_INPUT.get(name))
    except CodesignError as e:
        return {"model": name, "status": "refused", "reason": str(e)}
    seconds = time.perf_counter() - t0
    e = importer.energy(name)
    first = next((row for row in r["layers"] if row.get("mismatches")), None)
    return {
        "model": name,
        "status": "imported",
        "samples": r["samples"],
        "integer_nodes": len(r["graph"]["nodes"]),
        "ops": sorted({nd["op"] for nd in r["graph"]["nodes"]}),
        "checked_layers": sum(1 for row in r["layers"] if "mismatches" in row),
        "mismatches": r["mismatches"],
        "first_mismatch_layer": r["first_mismatch_layer"],
        "first_tie_distance": None if first is None else first.get("tie_distance"),
        # each layer's own disagreements, fed qonnx's values of its inputs (not inherited ones)
        "local_mismatches": {
            row["layer"]: [row["local_mismatches"], row.get("local_tie_distance")]
            for row in r["layers"]
            if row.get("local_mismatches") != 0 and "local_mismatches" in row
        },
        "requant_forms": sorted({nd.get("form") for nd in r["graph"]["nodes"] if "form" in nd}),
        "energy_45nm_pJ": round(e["total_pJ"], 1),
        "macs": e["macs"],
        "import_and_check_seconds": round(seconds, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--models", nargs="*", help="subset of model names")
    ap.add_argument("--out", default="build/benchmarks/import_coverage.json")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = {n: None for n in corpus.NAMES} | corpus.qonnx_data_models()
        with paths.using_workspace(work / "build"):
            for name, path in models.items():
                if a.models and name not in a.models:
                    continue
                if path is None:
                    path = corpus.build(name, work)
                rows.append(run_one(name, path, a.samples, work))
                r = rows[-1]
                print(json.dumps(r), flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"samples": a.samples, "models": rows}, indent=2) + "\n")
    print(f"\n{'model':<16}{'status':<10}{'layers':>7}{'mismatches':>11}{'45nm pJ':>14}  note")
    for r in rows:
        if r["status"] != "imported":
            print(f"{r['model']:<16}{'refused':<10}{'':>7}{'':>11}{'':>14}  {r['reason'][:70]}")
            continue
        note = (
            ""
            if not r["mismatches"]
            else (
                f"first at {r['first_mismatch_layer']}, "
                f"{r['first_tie_distance']:.1g} steps from a tie; own: "
                + ", ".join(
                    f"{k} {n}" + ("" if t is None else f" ({t:.1g} from a tie)")
                    for k, (n, t) in r["local_mismatches"].items()
                )
            )
        )
        print(
            f"{r['model']:<16}{'ok':<10}{r['checked_layers']:>7}{r['mismatches']:>11}"
            f"{r['energy_45nm_pJ']:>14,.0f}  {note}"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
