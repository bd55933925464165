"""Find an exported integer model and its golden test split under build/<model>/, write reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codesign import golden_io
from codesign.errors import CodesignError
from codesign.ir.graph import IntGraph


def load_exported(model: str, build: Path) -> tuple[IntGraph, np.ndarray, np.ndarray]:
    """(graph, x_test int64, labels) from build/<model>/onnx/model.onnx + golden/layers.npz."""
    onnx_path = build / model / "onnx" / "model.onnx"
    npz_path = build / model / "golden" / golden_io.FILE
    if not onnx_path.exists():
        raise CodesignError(
            f"model '{model}': {onnx_path} not found — export the model first "
            f"(its golden test split {npz_path} is needed too)"
        )
    if not npz_path.exists():
        raise CodesignError(f"model '{model}': golden test split {npz_path} not found")
    from codesign.ir.chain import load_int_graph

    graph = load_int_graph(str(onnx_path))
    graph.require_plain("reram")
    data = golden_io.load(npz_path, ("input", "labels"), model)
    x, labels = data["input"], data["labels"]
    golden_out = {k: v for k, v in data.items() if k not in ("input", "labels")}
    if x.ndim != 2 or x.shape[1] != graph.layers[0].in_features:
        raise CodesignError(
            f"{npz_path}: 'input' has shape {x.shape}, model '{model}' expects "
            f"(n, {graph.layers[0].in_features})"
        )
    if len(labels) != len(x):
        raise CodesignError(f"{npz_path}: {len(labels)} labels for {len(x)} inputs")
    # the stored golden tensors must agree with our executor (guards against stale files)
    from codesign.ir import chain

    ref = chain.run(graph, x)
    for name, arr in golden_out.items():
        if name in ref and not np.array_equal(ref[name], arr):
            raise CodesignError(
                f"{npz_path}: stored '{name}' differs from codesign.ir.chain.run on the graph"
            )
    return graph, x, labels


def digital_reference(model: str, build: Path) -> dict:
    """The digital 45 nm estimate written by `codesign energy`, if it exists (read as is)."""
    path = build / model / "reports" / "energy.json"
    if not path.exists():
        return {"available": False, "hint": f"run `codesign energy {model}` to write {path}"}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        return {"available": False, "error": f"{path}: {exc}"}
    return {"available": True, "path": str(path), "report": data}
