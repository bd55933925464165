"""The integer spiking graph as ONNX (custom ops codesign.Delay / codesign.LIF), and back.

Layout: input `spikes` (1, T, *input_shape); per layer `Delay` -> `<layer>.current` and `LIF` ->
`<layer>` (spikes, or membranes for the non-spiking readout); then a standard `ReduceSum` to
`scores`. Batch 1 with static shapes (qonnx's executor needs every shape); the golden model
reads the weights from here and runs any batch. Metadata keeps what ONNX nodes do not: graph
name, readout rule, v_bits, per-layer scales / quantizer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from codesign.errors import CodesignError
from codesign.snn.graph import SnnGraph, SnnLayer

OPSET = 13


def _vi(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [int(s) for s in shape])


def to_onnx(graph: SnnGraph) -> onnx.ModelProto:
    """Build the ONNX model of an integer spiking graph."""
    nodes, inits, vinfo = [], [], []
    shape = [1, graph.steps, *graph.input_shape]
    x = "spikes"
    for lay in graph.layers:
        n = lay.name
        inputs = [x, f"{n}.W", f"{n}.bias"]
        inits += [
            numpy_helper.from_array(lay.weight.astype(np.int64), f"{n}.W"),
            numpy_helper.from_array(lay.bias.astype(np.int64), f"{n}.bias"),
            numpy_helper.from_array(lay.threshold.astype(np.int64), f"{n}.threshold"),
        ]
        if lay.kind == "dense":
            inputs.append(f"{n}.D")
            inits.append(numpy_helper.from_array(lay.delay.astype(np.int64), f"{n}.D"))
        shape = [1, graph.steps, lay.out_channels, *shape[3:]]
        nodes.append(
            helper.make_node(
                "Delay",
                inputs,
                [f"{n}.current"],
                name=f"{n}.delay",
                domain="codesign",
                kind=lay.kind,
                scale=[float(s) for s in lay.scale],
            )
        )
        nodes.append(
            helper.make_node(
                "LIF",
                [f"{n}.current", f"{n}.threshold"],
                [n],
                name=f"{n}.lif",
                domain="codesign",
                leak_shift=lay.leak_shift,
                v_bits=graph.v_bits,
                spiking=int(lay.spiking),
            )
        )
        vinfo += [_vi(f"{n}.current", shape), _vi(n, shape)]
        x = n
    axes = [1] if graph.readout == "membrane_sum" else [1, *range(3, len(shape))]
    inits.append(numpy_helper.from_array(np.array(axes, dtype=np.int64), "readout_axes"))
    nodes.append(helper.make_node("ReduceSum", [x, "readout_axes"], ["scores"], keepdims=0))
    g = helper.make_graph(
        nodes,
        graph.name,
        [_vi("spikes", [1, graph.steps, *graph.input_shape])],
        [_vi("scores", [1, graph.layers[-1].out_channels])],
        inits,
        value_info=vinfo[:-1] if vinfo else [],
    )
    g.output.insert(0, vinfo[-1])
    model = helper.make_model(
        g,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("codesign", 1)],
        producer_name="codesign.snn",
    )
    meta = {
        "name": graph.name,
        "readout": graph.readout,
        "v_bits": graph.v_bits,
        "layers": {
            lay.name: {"weight_bits": lay.weight_bits, "quantizer": lay.quantizer}
            for lay in graph.layers
        },
        **graph.attrs,
    }
    helper.set_model_props(model, {"codesign.snn": json.dumps(meta)})
    return model


def save(graph: SnnGraph, path: str | Path) -> Path:
    from codesign.atomic import atomic_path

    with atomic_path(path) as tmp:
        onnx.save(to_onnx(graph), str(tmp))
    return Path(path)


def load(path: str | Path) -> SnnGraph:
    """Read an exported spiking ONNX file back into an SnnGraph (named errors on bad files)."""
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no spiking ONNX file at {path} (run `codesign export <model>`)")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # onnx raises several types for a corrupt file
        raise CodesignError(f"malformed ONNX file {path}: {e}") from None
    props = {p.key: p.value for p in model.metadata_props}
    if "codesign.snn" not in props:
        raise CodesignError(f"{path}: not a codesign spiking graph (no 'codesign.snn' metadata)")
    meta = json.loads(props["codesign.snn"])
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = list(model.graph.node)
    layers = []
    for node in nodes:
        if node.op_type in ("Delay", "LIF") and node.domain != "codesign":
            raise CodesignError(f"node '{node.name}': op {node.op_type} not in domain codesign")
        if node.op_type == "Delay":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            kind = attrs["kind"].decode() if isinstance(attrs["kind"], bytes) else attrs["kind"]
            lif = next(
                (m for m in nodes if m.op_type == "LIF" and m.input[0] == node.output[0]), None
            )
            if lif is None:
                raise CodesignError(f"node '{node.name}': Delay output feeds no LIF node")
            la = {a.name: helper.get_attribute_value(a) for a in lif.attribute}
            name = lif.output[0]
            info = meta["layers"].get(name, {})
            layers.append(
                SnnLayer(
                    name=name,
                    kind=kind,
                    weight=inits[node.input[1]],
                    delay=inits[node.input[3]] if kind == "dense" else None,
                    threshold=inits[lif.input[1]],
                    leak_shift=int(la["leak_shift"]),
                    spiking=bool(la["spiking"]),
                    scale=np.asarray(attrs.get("scale", []), dtype=np.float64),
                    weight_bits=int(info.get("weight_bits", 8)),
                    quantizer=info.get("quantizer", "uniform"),
                    bias=inits[node.input[2]],
                )
            )
        elif node.op_type not in ("LIF", "ReduceSum"):
            raise CodesignError(f"node '{node.name}': unsupported op {node.op_type}")
    if not layers:
        raise CodesignError(f"{path}: no codesign.Delay layers")
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    extra = {k: v for k, v in meta.items() if k not in ("name", "readout", "v_bits", "layers")}
    return SnnGraph(
        meta["name"], dims[1], tuple(dims[2:]), layers, meta["readout"], meta["v_bits"], extra
    )


def execute(path: str | Path, spikes: np.ndarray) -> dict[str, np.ndarray]:
    """Run the ONNX file with qonnx's executor, one sample at a time (our ops registered)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    import codesign.ir.custom_ops  # noqa: F401  (the codesign domain: Delay, LIF)

    model = ModelWrapper(str(path))
    names = [n.output[0] for n in model.graph.node if n.op_type == "LIF"]
    out: dict[str, list] = {k: [] for k in [*names, "scores"]}
    for x in np.asarray(spikes):
        ctx = execute_onnx(model, {"spikes": x[None].astype(np.float32)}, True)
        for k in out:
            out[k].append(ctx[k][0])
    return {k: np.rint(np.stack(v)).astype(np.int64) for k, v in out.items()}
