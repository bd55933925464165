"""PyTorch QAT model -> QONNX file (brevitas exporter + qonnx clean-up).

brevitas writes the activation `Quant` nodes; our QuantLinear layers add `codesign.LutQuant`
(POST) or QONNX `Quant` (uniform) weight nodes and a `Quant` bias on the accumulator grid. The
clean-up is the importer's (codesign/graph/frontends/qonnx.py `clean`), which keeps LutQuant.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import onnx
import torch
from qonnx.core.modelwrapper import ModelWrapper

from codesign.atomic import atomic_path
from codesign.graph.frontends.qonnx import clean
from codesign.ir import custom_ops


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
    wrapped = clean(ModelWrapper(proto), rename=True)
    for k, v in (meta or {}).items():
        entry = wrapped.model.metadata_props.add()
        entry.key, entry.value = str(k), str(v)
    with atomic_path(path) as tmp:
        wrapped.save(str(tmp))
    return path
