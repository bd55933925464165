"""Data movement: Reshape, Transpose, Concat, nearest Upsample, DepthToSpace. No arithmetic."""

from __future__ import annotations

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import Graph, IntType, Node
from codesign.graph.ops.base import Op, as_int64


class Reshape(Op):
    op_type = "Reshape"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        shape = tuple(int(v) for v in node.attrs["shape"])
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            raise CodesignError(f"node '{node.name}' (Reshape): {x.shape} cannot become {shape}")
        return [(shape, x.itype)]

    def execute(self, node: Node, xs):
        return [as_int64(xs[0]).reshape(len(xs[0]), *node.attrs["shape"])]


class Transpose(Op):
    """attrs['perm'] permutes the per-sample axes (the batch axis stays first)."""

    op_type = "Transpose"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        perm = node.attrs["perm"]
        if sorted(perm) != list(range(len(x.shape))):
            raise CodesignError(f"node '{node.name}' (Transpose): bad perm {perm} for {x.shape}")
        return [(tuple(x.shape[p] for p in perm), x.itype)]

    def execute(self, node: Node, xs):
        perm = [0] + [p + 1 for p in node.attrs["perm"]]
        return [np.ascontiguousarray(as_int64(xs[0]).transpose(perm))]


class Concat(Op):
    """Concatenation along per-sample axis attrs['axis']."""

    op_type = "Concat"

    def infer(self, node: Node, graph: Graph):
        ts = [graph.tensors[i] for i in node.inputs]
        ax = int(node.attrs["axis"])
        rest = {t.shape[:ax] + t.shape[ax + 1 :] for t in ts}
        if len(rest) != 1:
            raise CodesignError(f"node '{node.name}' (Concat): shapes {[t.shape for t in ts]}")
        shape = list(ts[0].shape)
        shape[ax] = sum(t.shape[ax] for t in ts)
        bip = all(t.itype.bipolar for t in ts)
        it = IntType(min(t.itype.lo for t in ts), max(t.itype.hi for t in ts), bipolar=bip)
        return [(tuple(shape), it)]

    def execute(self, node: Node, xs):
        return [np.concatenate([as_int64(x) for x in xs], axis=int(node.attrs["axis"]) + 1)]


class Slice(Op):
    """x[start:stop:step] along per-sample axes attrs['axes'] (lists, steps >= 1): ONNX Slice,
    and each output of ONNX Split."""

    op_type = "Slice"

    def _index(self, node: Node, shape) -> tuple:
        a = node.attrs
        idx = [slice(None)] * len(shape)
        for ax, start, stop, step in zip(
            a["axes"], a["starts"], a["stops"], a["steps"], strict=True
        ):
            if not 0 <= ax < len(shape) or step < 1 or not 0 <= start < stop <= shape[ax]:
                raise CodesignError(
                    f"node '{node.name}' (Slice): {start}:{stop}:{step} on axis {ax} of {shape}"
                )
            idx[ax] = slice(start, stop, step)
        return tuple(idx)

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        shape = np.empty(x.shape, dtype=np.int8)[self._index(node, x.shape)].shape
        return [(shape, x.itype)]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        return [x[(slice(None), *self._index(node, x.shape[1:]))].copy()]


class Upsample(Op):
    """Nearest-neighbour resize by integer factors attrs['factors'] per spatial axis."""

    op_type = "Upsample"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        f = node.attrs["factors"]
        return [((x.shape[0], *(s * int(k) for s, k in zip(x.shape[1:], f, strict=True))), x.itype)]

    def execute(self, node: Node, xs):
        y = as_int64(xs[0])
        for ax, k in enumerate(node.attrs["factors"]):
            y = np.repeat(y, int(k), axis=2 + ax)
        return [y]


class DepthToSpace(Op):
    """ONNX DepthToSpace (mode DCR or CRD) on (C, H, W)."""

    op_type = "DepthToSpace"

    def infer(self, node: Node, graph: Graph):
        x = graph.tensors[node.inputs[0]]
        b = int(node.attrs["blocksize"])
        c, h, w = x.shape
        if c % (b * b):
            raise CodesignError(f"node '{node.name}' (DepthToSpace): {c} channels, block {b}")
        return [((c // (b * b), h * b, w * b), x.itype)]

    def execute(self, node: Node, xs):
        x = as_int64(xs[0])
        b = int(node.attrs["blocksize"])
        n, c, h, w = x.shape
        if node.attrs.get("mode", "DCR") == "DCR":
            y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return [y.reshape(n, c // (b * b), h * b, w * b)]
