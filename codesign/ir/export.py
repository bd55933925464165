"""PyTorch QAT model -> QONNX file (brevitas exporter + qonnx clean-up).

brevitas writes the activation `Quant` nodes; our QuantLinear layers add `codesign.LutQuant`
(POST) or QONNX `Quant` (uniform) weight nodes. qonnx's own `cleanup_model` would constant-fold
LutQuant away (it only spares Quant/BipolarQuant), so we run its passes with our op excluded.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import onnx
import torch
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.fold_constants import FoldConstants
from qonnx.transformation.general import (
    GiveReadableTensorNames,
    GiveUniqueNodeNames,
    GiveUniqueParameterTensors,
    RemoveStaticGraphInputs,
    RemoveUnusedTensors,
)
from qonnx.transformation.infer_shapes import InferShapes

from codesign.atomic import atomic_path
from codesign.ir import custom_ops

PRESERVED_OPS = ["Quant", "BipolarQuant", "LutQuant"]


def clean(model: ModelWrapper) -> ModelWrapper:
    """qonnx's cleanup sequence, keeping quantizer nodes (ours included) unfolded."""
    for t in (
        InferShapes(),
        GiveUniqueParameterTensors(),
        FoldConstants(exclude_op_types=PRESERVED_OPS),
        RemoveUnusedTensors(),
        RemoveStaticGraphInputs(),
        GiveUniqueNodeNames(),
        GiveReadableTensorNames(),
        InferShapes(),
    ):
        model = model.transform(t)
    return model


def export_qonnx_model(
    model: torch.nn.Module, example: torch.Tensor, path: str | Path, meta: dict | None = None
) -> Path:
    """Export `model` (which must offer freeze_for_export) to a cleaned QONNX file at `path`."""
    from brevitas.export import export_qonnx

    path = Path(path)
    model = model.float().eval()
    model.freeze_for_export(example)
    try:
        with tempfile.TemporaryDirectory() as tmpdir, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = Path(tmpdir) / "raw.onnx"
            export_qonnx(model, example, str(raw), dynamo=False)
            proto = onnx.load(str(raw))
    finally:
        model.freeze_for_export(None)
    if not any(o.domain == custom_ops.DOMAIN for o in proto.opset_import):
        proto.opset_import.append(onnx.helper.make_opsetid(custom_ops.DOMAIN, 1))
    for n in proto.graph.node:
        if n.op_type in ("Quant", "BipolarQuant", "Trunc"):
            n.domain = "qonnx.custom_op.general"
    wrapped = clean(ModelWrapper(proto))
    for k, v in (meta or {}).items():
        entry = wrapped.model.metadata_props.add()
        entry.key, entry.value = str(k), str(v)
    with atomic_path(path) as tmp:
        wrapped.save(str(tmp))
    return path
