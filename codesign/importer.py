"""`codesign import FILE.onnx --name NAME`: a user's QONNX model becomes a model like the zoo's.

build/NAME/ gets the normalised QONNX (onnx/model.onnx), the inputs it is checked on
(data/inputs.npz), `imported.json` (where it came from, how its input is quantized) and
reports/import.json (the integer graph and golden vs qonnx's executor on every layer). The
verbs `golden` and `energy` then work on NAME; the others refuse it by name until their backend
reads the one graph.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from codesign import golden_io, paths
from codesign.atomic import atomic_dir, write_json
from codesign.errors import ArgumentParser, CodesignError, at_least, positive_number
from codesign.graph import execute, oracle
from codesign.graph.frontends import qonnx as frontend

# verbs that take an imported model today; the rest refuse it by name
IMPORTED_VERBS = ("golden", "energy", "rtl", "sim", "synth", "bitstream")
CHAIN_VERBS = ("rtl", "sim", "synth", "bitstream")  # through the MVU chain lowered from the graph
CHAIN_GOLDEN = "chain.npz"  # golden tensors under the chain's layer names, for `codesign sim`
MARKER = "imported.json"
MAX_SAMPLES = 100_000


def is_imported(name: str) -> bool:
    return (paths.model_dir(name) / MARKER).is_file()


def refuse_verb(verb: str, name: str) -> None:
    raise CodesignError(
        f"`codesign {verb}` does not take imported models yet ('{name}' came from "
        f"`codesign import`); verbs that do: {', '.join(IMPORTED_VERBS)}"
    )


def _check_name(name: str) -> str:
    from codesign.models import zoo

    if not name or not all(c.isalnum() or c in "_-." for c in name) or name.startswith("."):
        raise CodesignError(f"--name '{name}': use letters, digits, '_', '-' or '.'")
    if name in zoo.ZOO:
        raise CodesignError(f"--name '{name}' is a zoo model; choose another name")
    return name


def load_inputs(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """inputs.npz with one float array `x` of shape (N, *shape): data, never code."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z.files:
                raise CodesignError(f"--data {path}: no array named 'x' (found {z.files})")
            x = np.asarray(z["x"])
    except CodesignError:
        raise
    except Exception as e:  # zip/npy format errors come in many types
        raise CodesignError(f"--data {path}: not a readable .npz file ({e})") from None
    if x.dtype.kind not in "fiu":
        raise CodesignError(f"--data {path}: 'x' holds {x.dtype}, not numbers")
    if x.ndim == len(shape) and tuple(x.shape) == shape:
        x = x[None]
    if tuple(x.shape[1:]) != shape or not 1 <= len(x) <= MAX_SAMPLES:
        raise CodesignError(
            f"--data {path}: 'x' has shape {tuple(x.shape)}, the model takes (N, "
            f"{', '.join(map(str, shape))}) with 1 <= N <= {MAX_SAMPLES}"
        )
    if not np.isfinite(x).all():
        raise CodesignError(f"--data {path}: 'x' holds NaN or infinity")
    return x.astype(np.float32)


def _random_inputs(imp: frontend.Imported, n: int, seed: int) -> np.ndarray:
    """Without --data: uniform values over the input quantizer's range and a little beyond, so
    every level and both clamps are exercised."""
    g = imp.graph
    q = next(nd for nd in g.nodes if nd.op == "Quantize")
    t = q.params["thresholds"].reshape(-1)
    lo, hi = float(t.min()), float(t.max())
    pad = (hi - lo) * 0.05 + 1e-6
    rng = np.random.default_rng(seed)
    return rng.uniform(lo - pad, hi + pad, size=(n, *g.tensors["input"].shape)).astype(np.float32)


def _input_quant(meta: dict) -> frontend.InputQuant | None:
    iq = meta.get("input_quant")
    return None if iq is None else frontend.InputQuant(**iq)


def import_file(
    path: str | Path,
    name: str,
    data: str | Path | None = None,
    input_quant: frontend.InputQuant | None = None,
    samples: int = 100,
    seed: int = 0,
) -> dict:
    """Import, check golden against qonnx's executor, and commit build/NAME/ as a whole."""
    _check_name(name)
    if not 1 <= samples <= MAX_SAMPLES:
        raise CodesignError(f"--samples must be in 1..{MAX_SAMPLES}, got {samples}")
    path = Path(path)
    raw = path.read_bytes() if path.is_file() else None
    imp = frontend.import_model(frontend.load(path), name, input_quant)
    shape = imp.graph.tensors["input"].shape
    x = load_inputs(Path(data), shape) if data else _random_inputs(imp, samples, seed)
    report = check(imp, x)
    meta = {
        "model": name,
        "source": path.name,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "input_quant": None if input_quant is None else vars(input_quant),
        "inputs": "from --data" if data else f"uniform random, seed {seed}",
    }
    import onnx

    with atomic_dir(paths.model_dir(name)) as tmp:
        (tmp / "onnx").mkdir()
        onnx.save(imp.model, str(tmp / "onnx" / "model.onnx"))
        (tmp / "data").mkdir()
        np.savez(tmp / "data" / "inputs.npz", x=x)
        write_json(tmp / MARKER, meta)
        write_json(tmp / "reports" / "import.json", {**meta, **report})
    return {**meta, **report}


def import_brevitas(module, example_input, name: str, **kw) -> dict:
    """A brevitas nn.Module and an example input (one batch) through `export_qonnx`, then
    `import_file` (the module is traced once; its weights are read, never pickled)."""
    from brevitas.export import export_qonnx

    folder = Path(tempfile.mkdtemp(prefix="codesign-import-"))
    try:
        path = folder / f"{name}.onnx"
        export_qonnx(module.eval(), example_input, str(path), dynamo=False)
        return import_file(path, name, **kw)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def open_model(name: str) -> tuple[frontend.Imported, np.ndarray, dict]:
    """The imported graph, its inputs and its metadata, re-read from build/NAME/."""
    d = paths.model_dir(name)
    try:
        meta = json.loads((d / MARKER).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CodesignError(f"imported model '{name}': unreadable {d / MARKER} ({e})") from None
    imp = frontend.import_model(frontend.load(d / "onnx" / "model.onnx"), name, _input_quant(meta))
    x = load_inputs(d / "data" / "inputs.npz", imp.graph.tensors["input"].shape)
    return imp, x, meta


def check(imp: frontend.Imported, x: np.ndarray, golden: dict | None = None) -> dict:
    """Golden (run here unless given) vs qonnx's executor on every tapped layer, plus the
    graph's summary."""
    oracle.require_taps(imp)
    rep = oracle.compare_in_batches(imp, x, golden)
    return {
        "samples": int(len(x)),
        "mismatches": rep["mismatches"],
        "first_mismatch_layer": rep["first_mismatch_layer"],
        "weight_float32_ties": imp.notes["weight_float32_ties"],
        "graph": summary(imp),
        "layers": rep["layers"],
    }


def summary(imp: frontend.Imported) -> dict:
    g = imp.graph
    nodes = []
    for n in g.nodes:
        t = g.tensors[n.outputs[0]]
        row = {"node": n.name, "op": n.op, "shape": list(t.shape), "bits": t.itype.bits}
        row["range"] = [t.itype.lo, t.itype.hi]
        if n.op == "Requant":
            row["form"] = "multiply-shift" if "mult" in n.params else "thresholds"
        nodes.append(row)
    return {"input_shape": list(g.tensors["input"].shape), "nodes": nodes}


def golden(name: str) -> dict:
    """`codesign golden NAME` for an imported model: golden tensors and reports/golden.json."""
    imp, x, meta = open_model(name)
    values = execute.run(imp.graph, x)
    checked = check(imp, x, values)
    report = {"model": name, "reference": "qonnx.core.onnx_exec.execute_onnx", **checked}
    chain_tensors, report["mvu_chain"] = _chain_view(imp, values)
    checked_chain = chain_tensors is not None and checked["mismatches"] == 0
    golden_io.save(  # the chain's view only of a checked reference
        name,
        {k: v for k, v in values.items() if k != "input"},
        extra={CHAIN_GOLDEN: chain_tensors} if checked_chain else None,
        reports={"golden.json": report},
    )
    return report


def chain_graph(name: str):
    """The MVU chain (codesign/ir/chain.py) of an imported model, or the error naming the node
    it cannot take: what `codesign rtl|sim|synth NAME` build from."""
    from codesign.ir import chain

    imp, _, _ = open_model(name)
    return chain.lower(imp.graph)


def _chain_view(imp: frontend.Imported, values: dict) -> tuple[dict | None, dict]:
    from codesign.ir import chain

    try:
        c = chain.lower(imp.graph)
    except CodesignError as e:
        return None, {"lowers": False, "why": str(e)}
    tensors = {k: values[t] for k, t in c.tensor_of.items()}
    return tensors, {"lowers": True, "layers": [lay.name for lay in c.layers]}


def energy(name: str) -> dict:
    from codesign.energy.graph45 import estimate

    imp, _, _ = open_model(name)
    report = estimate(imp.graph)
    write_json(paths.reports_dir(name) / "energy.json", report)
    return report


def main(argv: list[str]) -> int:
    p = ArgumentParser(
        prog="codesign import",
        description="Import a QONNX model (brevitas/QKeras export) as a codesign model.",
    )
    p.add_argument("file", help="QONNX file (.onnx)")
    p.add_argument("--name", required=True, help="model name under build/")
    p.add_argument("--data", help=".npz with an array 'x' of inputs (N, ...); default: random")
    p.add_argument("--samples", type=at_least(1), default=100, help="random inputs without --data")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument(
        "--input-scale",
        type=positive_number,
        help="the input's quantization step, when the file has no quantizer on its input",
    )
    p.add_argument("--input-bits", type=at_least(1, 32), default=8)
    p.add_argument("--input-signed", action="store_true")
    a = p.parse_args(argv)
    iq = None
    if a.input_scale is not None:
        iq = frontend.InputQuant(a.input_scale, a.input_bits, a.input_signed)
    r = import_file(a.file, a.name, a.data, iq, a.samples, a.seed)
    print(
        f"imported '{a.name}' from {r['source']}: {len(r['graph']['nodes'])} integer nodes; "
        f"golden vs qonnx's executor on {r['samples']} inputs: {r['mismatches']} mismatching "
        f"integers ({oracle.describe(r)})"
    )
    print(f"reports: {paths.reports_dir(a.name) / 'import.json'}")
    return 1 if r["mismatches"] else 0
