"""Which ops each flow can take, checked before a flow starts: an unsupported op stops with the
op, the node name, and the backend(s) that can take it, instead of a deep FINN/hls4ml traceback.

The FINN list is what its QONNX->FINN conversion, streamlining and HW-layer inference map
(finn-plus 1.6.1, transformation/fpgadataflow/convert_to_hw/); the hls4ml list is the ONNX
front end's own registry (hls4ml.converters.get_supported_onnx_layers()) plus the QONNX ops it
reads. `LutQuant` is ours: both flows take it through codesign.hls.lutquant.LutQuantToQuant.
"""

from __future__ import annotations

import onnx

from codesign.errors import CodesignError
from codesign.graph.frontends import qonnx as qonnx_frontend

FINN_OPS = frozenset(
    {
        "Quant", "BipolarQuant", "Trunc", "MultiThreshold", "LutQuant",
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Identity",
        "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Pad",
        "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "TopK",
        "BatchNormalization", "Im2Col",
    }
)  # fmt: skip
HLS4ML_QONNX_OPS = frozenset({"Quant", "BipolarQuant", "LutQuant", "Gemm", "Constant"})
GOLDEN_OPS = frozenset(qonnx_frontend.SUPPORTED)  # what the one graph's importer reads
# what codesign/ir/chain.py lowers to our MVU chain (power-of-two activation scales)
RTL_OPS = frozenset({"Quant", "Gemm", "MatMul", "Add", "Relu", "LutQuant", "AsqQuant", "LogQuant"})

# Ops no generic flow takes, and where in codesign they belong.
_DEFORM_HOME = "codesign's own integer model and RTL path (codesign/codenet, codesign/rtl)"
CODESIGN_HOMES = {
    "DeformConv": _DEFORM_HOME,
    "SquareDeformConv": _DEFORM_HOME,
    "Delay": "codesign's own spiking path (integer delays: golden model, SFQ/ReRAM simulators)",
    "LIF": "codesign's own spiking path (golden model, SFQ/ReRAM simulators)",
}


def hls4ml_ops() -> frozenset[str]:
    try:
        from hls4ml.converters import get_supported_onnx_layers
    except ImportError:
        return HLS4ML_QONNX_OPS
    return frozenset(get_supported_onnx_layers()) | HLS4ML_QONNX_OPS


def backends() -> dict[str, frozenset[str]]:
    return {
        "FINN": FINN_OPS,
        "hls4ml": hls4ml_ops(),
        "golden model and energy (codesign import; golden, energy)": GOLDEN_OPS,
        "own RTL (codesign rtl)": RTL_OPS,
    }


def who_takes(op: str) -> list[str]:
    """Names of the backends that can take `op` (flows first, then codesign's own homes)."""
    names = [name for name, ops in backends().items() if op in ops]
    if op in CODESIGN_HOMES:
        names.append(CODESIGN_HOMES[op])
    return names


def check_ops(model: onnx.ModelProto, backend: str) -> None:
    """Raise CodesignError at the first node `backend` ("FINN" or "hls4ml") cannot take."""
    table = backends()
    if backend not in table:
        raise CodesignError(f"unknown backend '{backend}' (choose from {sorted(table)})")
    ops = table[backend]
    for node in model.graph.node:
        if node.op_type in ops:
            continue
        others = [b for b in who_takes(node.op_type) if b != backend]
        where = (
            "; backends that take it: " + ", ".join(others)
            if others
            else ("; no codesign backend takes it")
        )
        raise CodesignError(
            f"unsupported op for {backend}: node '{node.name}' ({node.op_type}"
            f"{', domain ' + node.domain if node.domain else ''}){where}"
        )
