"""The one graph as an ONNX file, and back: one format for every model that has no QONNX form.

Each node is an ONNX node of its registry op in the domain of `codesign.graph.qonnx_ops` (so
qonnx's tools and Netron open the file), its integer params are int64 initializers
`<node>::<param>` appended to its inputs, and its attrs are one JSON string. What ONNX cannot
say -- each tensor's exact integer range and real scale, the float edge, the model's own
metadata -- is one JSON document in the model's metadata `codesign.graph`. Shapes carry a batch
axis of 1 (qonnx's executor needs static shapes); the golden executor runs any batch.

Reading re-runs every op's `infer` and refuses a file whose stored shapes or ranges differ
(a hand-edited or truncated file), naming the node.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from codesign.errors import CodesignError
from codesign.graph import ops
from codesign.graph.build import check_int_limit
from codesign.graph.core import Graph, IntType, Node, Real, Tensor

FORMAT = "codesign.graph"
VERSION = 1
DOMAIN = "codesign.graph.qonnx_ops"  # a module path: qonnx imports it, no registration
OPSET = 13


def _fractions(a: np.ndarray) -> dict:
    a = np.asarray(a, dtype=object)
    return {"shape": list(a.shape), "values": [str(Fraction(v)) for v in a.reshape(-1)]}


def _from_fractions(d: dict) -> np.ndarray:
    vals = [Fraction(v) for v in d["values"]]
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out.reshape(d["shape"])


def _tensor_meta(t: Tensor) -> dict:
    m: dict = {"shape": list(t.shape)}
    if t.itype is not None:
        m["range"] = [str(t.itype.lo), str(t.itype.hi)]  # beyond JSON's safe integers
        m["bipolar"] = t.itype.bipolar
    if t.real is not None:
        m["real"] = {"scale": _fractions(t.real.scale), "offset": _fractions(t.real.offset)}
    if t.source is not None:
        m["source"] = t.source
    return m


def _value_info(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, *map(int, shape)])


def to_onnx(graph: Graph) -> onnx.ModelProto:
    """The ONNX model of `graph` (its `meta` travels with it)."""
    nodes, inits = [], []
    for n in graph.nodes:
        pnames = [f"{n.name}::{k}" for k in n.params]
        inits += [
            numpy_helper.from_array(np.asarray(v, dtype=np.int64), p)
            for p, v in zip(pnames, n.params.values(), strict=True)
        ]
        extra = {"params": list(n.params)} if n.params else {}  # ONNX has no empty list
        nodes.append(
            helper.make_node(
                n.op,
                [*n.inputs, *pnames],
                list(n.outputs),
                name=n.name,
                domain=DOMAIN,
                attrs=json.dumps(n.attrs, sort_keys=True),
                **extra,
            )
        )
    io = set(graph.inputs) | set(graph.outputs)
    g = helper.make_graph(
        nodes,
        graph.name,
        [_value_info(i, graph.tensors[i].shape) for i in graph.inputs],
        [_value_info(o, graph.tensors[o].shape) for o in graph.outputs],
        inits,
        value_info=[
            _value_info(t.name, t.shape) for t in graph.tensors.values() if t.name not in io
        ],
    )
    model = helper.make_model(
        g,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(DOMAIN, 1)],
        producer_name="codesign",
    )
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "input_float": graph.input_float,
        "tensors": {t.name: _tensor_meta(t) for t in graph.tensors.values()},
        "meta": graph.meta,
    }
    helper.set_model_props(model, {FORMAT: json.dumps(doc, sort_keys=True)})
    return model


def save(graph: Graph, path: str | Path) -> Path:
    from codesign.atomic import atomic_path

    model = to_onnx(graph)
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))
    return Path(path)


def _tensor(name: str, m: dict) -> Tensor:
    itype = None
    if "range" in m:
        itype = IntType(int(m["range"][0]), int(m["range"][1]), bool(m.get("bipolar", False)))
    real = None
    if "real" in m:
        real = Real(_from_fractions(m["real"]["scale"]), _from_fractions(m["real"]["offset"]))
    return Tensor(name, tuple(int(s) for s in m["shape"]), itype, real, m.get("source"))


def from_onnx(model: onnx.ModelProto, where: str = "ONNX model") -> Graph:
    """The graph of a model written by to_onnx; a named error for anything else."""
    props = {p.key: p.value for p in model.metadata_props}
    if FORMAT not in props:
        raise CodesignError(
            f"{where}: not a codesign graph file (no '{FORMAT}' metadata; an older export? "
            "run `codesign export` again)"
        )
    try:
        doc = json.loads(props[FORMAT])
        if doc.get("version") != VERSION:
            raise CodesignError(f"{where}: graph file version {doc.get('version')}, not {VERSION}")
        tensors = {k: _tensor(k, m) for k, m in doc["tensors"].items()}
        inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        g = Graph(
            model.graph.name,
            [i.name for i in model.graph.input],
            [o.name for o in model.graph.output],
            input_float=dict(doc.get("input_float", {})),
            meta=dict(doc.get("meta", {})),
        )
        for i in g.inputs:
            g.add_tensor(tensors[i])
        for pn in model.graph.node:
            g.nodes.append(_node(pn, inits, tensors, g))
        if len(g.inputs) != 1 or not g.outputs:
            raise CodesignError(f"{where}: a graph file needs one input and an output")
        g.validate()
        return g
    except CodesignError:
        raise
    except (
        KeyError,
        IndexError,
        ValueError,
        TypeError,
        ZeroDivisionError,
        AttributeError,
        OverflowError,
    ) as e:
        raise CodesignError(f"{where}: damaged graph file ({type(e).__name__}: {e})") from None


def _node(pn, inits: dict, tensors: dict[str, Tensor], g: Graph) -> Node:
    """One stored node, checked: its op's `infer` must give the stored shapes and ranges."""
    if pn.domain != DOMAIN:
        raise CodesignError(f"node '{pn.name}': op {pn.op_type} not in domain {DOMAIN}")
    if pn.op_type not in ops.OPS:
        raise CodesignError(f"node '{pn.name}': unknown op '{pn.op_type}'")
    attrs = {a.name: helper.get_attribute_value(a) for a in pn.attribute}
    pkeys = [p.decode() if isinstance(p, bytes) else p for p in attrs.get("params", [])]
    n_in = len(pn.input) - len(pkeys)
    if n_in < 0 or any(i not in inits for i in pn.input[n_in:]):
        raise CodesignError(f"node '{pn.name}': its params are not stored")
    raw = attrs.get("attrs", b"{}")
    node = Node(
        pn.op_type,
        pn.name,
        list(pn.input[:n_in]),
        list(pn.output),
        json.loads(raw.decode() if isinstance(raw, bytes) else raw),
        {k: inits[i].astype(np.int64) for k, i in zip(pkeys, pn.input[n_in:], strict=True)},
    )
    for i in node.inputs:
        if i not in g.tensors:
            raise CodesignError(f"node '{pn.name}' reads '{i}' before it is computed")
    try:
        inferred = ops.get(node.op).infer(node, g)
    except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
        raise CodesignError(
            f"node '{pn.name}' ({node.op}): its attrs or params do not fit the op "
            f"({type(e).__name__}: {e})"
        ) from None
    if len(inferred) != len(node.outputs):
        raise CodesignError(
            f"node '{pn.name}': {len(node.outputs)} outputs, op gives {len(inferred)}"
        )
    for o, (shape, itype) in zip(node.outputs, inferred, strict=True):
        check_int_limit(node, itype)
        stored = tensors.get(o)
        if stored is None or stored.shape != tuple(shape) or stored.itype != itype:
            raise CodesignError(
                f"node '{pn.name}' ({node.op}): output '{o}' is stored as "
                f"{None if stored is None else (stored.shape, stored.itype)}, its op gives "
                f"{(tuple(shape), itype)} (a hand-edited file?)"
            )
        g.add_tensor(stored)
    return node


def load(path: str | Path) -> Graph:
    """The graph of a graph file, with named errors for a missing or damaged one."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no graph file at {path} (run `codesign export`)")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # onnx raises several types for a corrupt file
        raise CodesignError(f"malformed ONNX file {path}: {e}") from None
    return from_onnx(model, str(path))


def _param_difference(node: str, key: str, a: np.ndarray, b: np.ndarray) -> list[str]:
    """The first element where two params differ, with both values (empty: equal)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return [f"{node}: param {key} shape {a.shape} != {b.shape}"]
    bad = np.argwhere(a != b)
    if not len(bad):
        return []
    i = tuple(int(v) for v in bad[0])
    return [f"{node}: param {key} at {list(i)}: {a[i]} != {b[i]} ({len(bad)} elements differ)"]


def differences(a: Graph, b: Graph) -> list[str]:
    """What differs between two graphs (empty: equal): structure, attrs, params, types."""
    diffs = []
    if (a.inputs, a.outputs) != (b.inputs, b.outputs):
        diffs.append("graph inputs/outputs")
    if (a.meta, a.input_float) != (b.meta, b.input_float):
        diffs.append("graph meta or float edge")
    an, bn = [n.name for n in a.nodes], [n.name for n in b.nodes]
    if an != bn:
        return diffs + [f"nodes {an} != {bn}"]
    for x, y in zip(a.nodes, b.nodes, strict=True):
        if (x.op, x.inputs, x.outputs, x.attrs) != (y.op, y.inputs, y.outputs, y.attrs):
            diffs.append(f"{x.name}: op, wiring or attrs")
        if sorted(x.params) != sorted(y.params):
            diffs.append(f"{x.name}: params {sorted(x.params)} != {sorted(y.params)}")
            continue
        for k in x.params:
            diffs.extend(_param_difference(x.name, k, x.params[k], y.params[k]))
    for name, t in a.tensors.items():
        u = b.tensors.get(name)
        if u is None or (t.shape, t.itype) != (u.shape, u.itype):
            diffs.append(f"tensor {name}: shape or range")
        elif (t.real is None) != (u.real is None) or (
            t.real is not None
            and not (
                np.array_equal(t.real.scale, u.real.scale)
                and np.array_equal(t.real.offset, u.real.offset)
            )
        ):
            diffs.append(f"tensor {name}: real scale")
    return diffs
