"""QONNX model -> plain ONNX that onnxruntime runs (for benchmarks and cross-checks).

onnxruntime knows neither QONNX `Quant` nor our `LutQuant`: weight quantizers are folded into
float initializers and activation quantizers become Div -> Round -> Clip -> Mul (Round is
half-to-even, as in QONNX). The batch dimension is made symbolic, also in Reshape targets.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from codesign.errors import CodesignError


def to_onnxruntime(proto: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.shape_inference.infer_shapes(proto)
    g = m.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    shapes = {
        vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
        for vi in list(g.value_info) + list(g.output)
    }
    new_nodes, new_inits = [], []
    for n in g.node:
        out_shape = shapes.get(n.output[0], [])
        if (
            n.op_type == "Reshape"
            and n.input[1] in inits
            and len(out_shape) > 1
            and all(out_shape[1:])
        ):
            # the exporter's batch of 1 is baked into the target shape: make it any batch
            target = [-1, *out_shape[1:]]
            new_inits.append(numpy_helper.from_array(np.array(target, np.int64), f"{n.name}_shape"))
            new_nodes.append(helper.make_node("Reshape", [n.input[0], f"{n.name}_shape"], n.output))
        elif n.op_type == "LutQuant":
            idx, cb, scale = (inits[i] for i in n.input)
            w = (cb[idx.astype(np.int64)] * scale.astype(np.float64)).astype(np.float32)
            new_inits.append(numpy_helper.from_array(w, n.output[0]))
        elif n.op_type == "Quant" and n.input[0] in inits:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            x, s, _, b = (inits[i].astype(np.float64) for i in n.input)
            q = 2 ** (int(b) - 1)
            lo = -q + (1 if attrs.get("narrow", 0) else 0)
            w = (np.clip(np.round(x / s), lo, q - 1) * s).astype(np.float32)
            new_inits.append(numpy_helper.from_array(w, n.output[0]))
        elif n.op_type == "Quant":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            s = float(inits[n.input[1]].reshape(-1)[0])
            zp = float(inits[n.input[2]].reshape(-1)[0])
            bits = int(inits[n.input[3]].reshape(-1)[0])
            narrow = 1 if attrs.get("narrow", 0) else 0
            if attrs.get("signed", 1):
                lo, hi = -(2 ** (bits - 1)) + narrow, 2 ** (bits - 1) - 1
            else:
                lo, hi = 0, 2**bits - 1 - narrow
            mode = attrs.get("rounding_mode", b"ROUND")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            rnd = {"ROUND": "Round", "FLOOR": "Floor", "CEIL": "Ceil"}.get(mode.upper())
            if rnd is None:
                raise CodesignError(f"node '{n.name}': rounding mode {mode} has no plain-ONNX form")
            p = n.output[0]
            consts = {f"{p}_s": s, f"{p}_zp": zp, f"{p}_lo": float(lo), f"{p}_hi": float(hi)}
            for k, v in consts.items():
                new_inits.append(numpy_helper.from_array(np.array(v, dtype=np.float32), k))
            # q = clip(round(x / s + zp), lo, hi); out = (q - zp) * s, as QONNX's Quant
            new_nodes += [
                helper.make_node("Div", [n.input[0], f"{p}_s"], [f"{p}_d"], name=f"{n.name}_div"),
                helper.make_node("Add", [f"{p}_d", f"{p}_zp"], [f"{p}_z"], name=f"{n.name}_zp"),
                helper.make_node(rnd, [f"{p}_z"], [f"{p}_r"], name=f"{n.name}_round"),
                helper.make_node(
                    "Clip", [f"{p}_r", f"{p}_lo", f"{p}_hi"], [f"{p}_c"], name=f"{n.name}_clip"
                ),
                helper.make_node("Sub", [f"{p}_c", f"{p}_zp"], [f"{p}_u"], name=f"{n.name}_unzp"),
                helper.make_node("Mul", [f"{p}_u", f"{p}_s"], [p], name=f"{n.name}_mul"),
            ]
        else:
            new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    used = {i for n in new_nodes for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    del g.value_info[:]
    for vi in list(g.input) + list(g.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    keep = [o for o in m.opset_import if o.domain in ("", "ai.onnx")]
    del m.opset_import[:]
    m.opset_import.extend(keep)
    return m
