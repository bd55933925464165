"""The op registry: one module per op family, listed here once (no import-order side effects).

Adding an op: write its class (infer / execute / count, see base.Op) in a module of this folder,
add it to OPS below, and teach the frontends and backends that should take it.
"""

from __future__ import annotations

from codesign.errors import CodesignError
from codesign.graph.ops.adaptive import AsqDivide
from codesign.graph.ops.base import Op
from codesign.graph.ops.deformable import DeformConv
from codesign.graph.ops.elementwise import Add, Clip, Mul
from codesign.graph.ops.layout import Concat, DepthToSpace, Reshape, Slice, Transpose, Upsample
from codesign.graph.ops.linear import Conv, Dense
from codesign.graph.ops.lookup import Lookup
from codesign.graph.ops.pool import MaxPool, SumPool
from codesign.graph.ops.quantize import Quantize, Requant
from codesign.graph.ops.spiking import LIF, Delay
from codesign.graph.ops.temporal import Accumulate, DeltaEncode

OPS: dict[str, Op] = {
    op.op_type: op
    for op in (
        Quantize(),
        Requant(),
        Dense(),
        Conv(),
        DeformConv(),
        MaxPool(),
        SumPool(),
        Add(),
        Clip(),
        Mul(),
        Lookup(),
        AsqDivide(),
        DeltaEncode(),
        Accumulate(),
        Delay(),
        LIF(),
        Reshape(),
        Transpose(),
        Concat(),
        Slice(),
        Upsample(),
        DepthToSpace(),
    )
}


def get(op_type: str) -> Op:
    if op_type not in OPS:
        raise CodesignError(f"unknown op '{op_type}' (known: {', '.join(sorted(OPS))})")
    return OPS[op_type]
