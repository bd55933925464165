"""What every flow in codesign/hls reads: the export, its IntGraph, the golden tensors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codesign import golden_io, paths
from codesign.errors import CodesignError
from codesign.ir.graph import IntGraph


def require_model(model: str) -> None:
    """A zoo model whose export exists (clear error otherwise)."""
    from codesign.models import zoo

    zoo.module(model)  # raises CodesignError for an unknown model
    if not paths.onnx_path(model).is_file():
        raise CodesignError(
            f"no export for '{model}' at {paths.onnx_path(model)} (run `codesign demo {model}`)"
        )


def int_graph(model: str) -> IntGraph:
    from codesign.ir.chain import load_int_graph

    graph = load_int_graph(paths.onnx_path(model), model)
    graph.require_plain("hls4ml/FINN")
    return graph


def golden_tensors(model: str) -> dict[str, np.ndarray]:
    """build/<model>/golden/layers.npz as a dict (input, every layer, labels)."""
    return golden_io.load_model(model)


def plain_qonnx(model: str):
    """The export as plain QONNX (LutQuant rewritten to Quant), cleaned with qonnx."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    from codesign.hls.lutquant import LutQuantToQuant
    from codesign.ir import custom_ops  # noqa: F401  (LutQuant known to qonnx)

    mw = ModelWrapper(str(paths.onnx_path(model)))
    return cleanup_model(mw.transform(LutQuantToQuant()))


def read_json(path: Path) -> dict:
    """A report, or {} when it does not exist yet."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CodesignError(f"malformed report {path}: {e}") from None
