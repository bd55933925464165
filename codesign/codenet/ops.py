"""Custom ops in domain `codesign` for CoDeNet graphs, registered with qonnx (InferShapes,
execute_onnx) through the `codesign` domain's one op table (LAZY_OPS in
codesign/ir/custom_ops.py).

DeformConv(x, s, W [, scale, bias]) -> y
    Square deformable depthwise 3x3 (CoDeNet, arXiv 2006.08357) on integer-valued tensors.
    x (N, C, H, W) int8 values; s (N, 1, H, W) integer scale per pixel with `s_frac` fractional
    bits (default 3), rounded half up and clamped to [s_min, s_max] (default -7, 8);
    W (C, 1, 3, 3). Tap (ky, kx) reads x at (y + ky*s, x + kx*s); outside the image it reads
    `zero_point` (default -128, the accelerator's rule).
    Attribute `requant`: "none" -> y is the int accumulator; "codenet" / "codenet_neg_half" ->
    y = CoDeNet requantisation with per-channel 16-bit scale and bias and attribute `relu`.
CodenetRequant(acc, scale, bias) -> y
    The requantisation alone (after a standard 1x1 Conv on integer-valued floats); attributes
    `rule` ("codenet" | "codenet_neg_half") and `relu`.
Metadata attributes `out_exp`, `out_zp` (real = (y - out_zp) * 2**out_exp) ride along.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp

from codesign.codenet import integer as I


class _IntOp(CustomOp):
    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["FLOAT32"])

    def verify_node(self):
        return []


class DeformConv(_IntOp):
    """Square deformable depthwise 3x3 with integer scale (see module doc)."""

    def get_nodeattr_types(self):
        return {
            "zero_point": ("i", False, I.ZP),
            "s_min": ("i", False, I.S_LO),
            "s_max": ("i", False, I.S_HI),
            "s_frac": ("i", False, I.S_FRAC),
            "requant": ("s", False, "codenet"),
            "relu": ("i", False, 0),
            "out_exp": ("i", False, 0),
            "out_zp": ("i", False, 0),
        }

    def make_shape_compatible_op(self, model):
        return helper.make_node("Identity", [self.onnx_node.input[0]], [self.onnx_node.output[0]])

    def execute_node(self, context, graph):
        ins = [context[n] for n in self.onnx_node.input]
        x = np.asarray(ins[0], np.float64)
        f = self.get_nodeattr("s_frac")
        s = np.asarray(ins[1], np.float64)[:, 0]
        if f > 0:  # s carries f fractional bits: round half up
            s = np.floor((s + 2 ** (f - 1)) / 2**f)
        s = np.clip(s, self.get_nodeattr("s_min"), self.get_nodeattr("s_max"))
        w = np.asarray(ins[2], np.float64).reshape(x.shape[1], 9)
        if not (
            np.array_equal(x, np.round(x))
            and np.array_equal(s, np.round(s))
            and np.array_equal(w, np.round(w))
        ):
            raise ValueError(f"DeformConv '{self.onnx_node.name}': inputs must be integer-valued")
        zp = self.get_nodeattr("zero_point")
        taps = I.deform_taps(x.astype(np.int64), s.astype(np.int64), zp)  # (N, H, W, C, 9)
        acc = (taps * w.astype(np.int64)[None, None, None]).sum(axis=-1).transpose(0, 3, 1, 2)
        rule = self.get_nodeattr("requant")
        if rule != "none":
            scale, bias = (np.asarray(context[n], np.int64) for n in self.onnx_node.input[3:5])
            acc = I.requant(
                acc.transpose(0, 2, 3, 1), scale, bias, bool(self.get_nodeattr("relu")), rule
            )
            acc = acc.transpose(0, 3, 1, 2)
        context[self.onnx_node.output[0]] = acc.astype(np.float32)


class CodenetRequant(_IntOp):
    """q = ((acc * scale + 2**15) >> 16) + bias; ReLU -> max(q, 0) - 128; clamp to int8."""

    def get_nodeattr_types(self):
        return {
            "rule": ("s", False, "codenet"),
            "relu": ("i", False, 0),
            "out_exp": ("i", False, 0),
            "out_zp": ("i", False, 0),
        }

    def make_shape_compatible_op(self, model):
        return helper.make_node("Identity", [self.onnx_node.input[0]], [self.onnx_node.output[0]])

    def execute_node(self, context, graph):
        acc, scale, bias = (context[n] for n in self.onnx_node.input)
        acc = np.asarray(acc, np.float64)
        if not np.array_equal(acc, np.round(acc)):
            raise ValueError(f"CodenetRequant '{self.onnx_node.name}': accumulator not integer")
        q = I.requant(
            acc.astype(np.int64).transpose(0, 2, 3, 1),
            np.asarray(scale, np.int64),
            np.asarray(bias, np.int64),
            bool(self.get_nodeattr("relu")),
            self.get_nodeattr("rule"),
        )
        context[self.onnx_node.output[0]] = q.transpose(0, 3, 1, 2).astype(np.float32)
