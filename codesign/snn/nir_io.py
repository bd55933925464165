"""NIR export / import of the integer spiking graph, with NIR's own Delay and LIF primitives.

NIR's Delay delays a whole vector by per-element amounts, and its Linear has no delay, so a
layer whose synapses have different delays is written as parallel branches, one per delay
value d that some synapse uses:  input -> Delay(d) -> Linear(W masked to delay d) -> LIF;
NIR sums the branches at the LIF input. The first branch is an Affine carrying the bias
current. An HD-SNN layer is the same with a Conv2d per delay tap.

Units are the integer model's (weights, membrane, threshold in integer units), with the
neuron in NIR's continuous form discretised by forward Euler at dt = 1:
tau dv/dt = (v_leak - v) + R I  ->  v <- (1 - 1/tau) v + (R/tau) I, so tau = R = 2^k,
v_leak = 0 gives V <- (1 - 2^-k) V + I. NIR fires on v > v_threshold, so v_threshold = theta - 0.5
fires exactly when an integer V >= theta. What NIR cannot say (the floor in V >> k, saturation
to v_bits, the readout rule, the weight scales) is in the graph metadata `codesign` (JSON).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nir
import numpy as np

from codesign.errors import CodesignError, first_line
from codesign.graph.core import Graph
from codesign.snn.graph import SpikingLayer, build, spiking_net


def _branches(lay: SpikingLayer) -> list[int]:
    if lay.kind == "hdconv":
        return list(range(lay.weight.shape[2]))
    ds = [d for d in range(lay.weight.shape[2]) if lay.weight[:, :, d].any()]
    return ds or [0]


def to_nir(graph: Graph) -> nir.NIRGraph:
    """The NIR graph of an integer spiking graph (integer units, see module docstring)."""
    net = spiking_net(graph)
    nodes: dict[str, nir.NIRNode] = {
        "input": nir.Input(input_type={"input": np.array(net.input_shape)})
    }
    edges: list[tuple[str, str]] = []
    src = "input"
    in_shape = tuple(net.input_shape)
    for lay in net.layers:
        n = lay.name
        out_shape = (
            (lay.out_channels, *in_shape[1:]) if lay.kind == "hdconv" else (lay.out_channels,)
        )
        for j, d in enumerate(_branches(lay)):
            dn, wn = f"{n}.delay{d}", f"{n}.w{d}"
            nodes[dn] = nir.Delay(delay=np.full(in_shape, float(d)))
            bias = lay.bias.astype(np.float64) if j == 0 else np.zeros(lay.out_channels)
            if lay.kind == "dense":
                w = lay.weight[:, :, d].astype(np.float64)
                nodes[wn] = nir.Affine(weight=w, bias=bias) if j == 0 else nir.Linear(weight=w)
            else:
                kh, kw = lay.weight.shape[3:]
                nodes[wn] = nir.Conv2d(
                    input_shape=tuple(in_shape[1:]),
                    weight=lay.weight[:, :, d].astype(np.float64),
                    stride=1,
                    padding=(kh // 2, kw // 2),
                    dilation=1,
                    groups=1,
                    bias=bias,
                )
            edges += [(src, dn), (dn, wn), (wn, n)]
        tau = np.full(out_shape, float(2**lay.leak_shift))
        zeros = np.zeros(out_shape)
        if lay.spiking:
            th = lay.threshold.reshape(-1, *([1] * (len(out_shape) - 1))) - 0.5
            nodes[n] = nir.LIF(
                tau=tau,
                r=tau.copy(),
                v_leak=zeros,
                v_threshold=np.broadcast_to(th, out_shape).copy(),
                v_reset=zeros.copy(),
            )
        else:
            nodes[n] = nir.LI(tau=tau, r=tau.copy(), v_leak=zeros)
        src, in_shape = n, out_shape
    nodes["output"] = nir.Output(output_type={"output": np.array(in_shape)})
    edges.append((src, "output"))
    meta = {
        "name": net.name,
        "steps": net.steps,
        "input_shape": list(net.input_shape),
        "readout": net.readout,
        "v_bits": net.v_bits,
        "leak": "V <- sat(V - (V >> k) + I), arithmetic shift (floor)",
        "graph_meta": graph.meta,  # the graph's own notes (family, readout, provenance)
        "layers": {
            lay.name: {
                "kind": lay.kind,
                "scale": [float(s) for s in lay.scale],
                "weight_bits": lay.weight_bits,
                "quantizer": lay.quantizer,
                "delays": lay.max_delay + 1,
            }
            for lay in net.layers
        },
    }
    return nir.NIRGraph(
        nodes=nodes, edges=edges, metadata={"codesign": json.dumps(meta)}, type_check=False
    )


def _integers(node: str, field: str, values: object) -> np.ndarray:
    """`values` as int64, refused by name unless every one is a finite integer (np.rint would
    round 2.5 silently and turn NaN into INT64_MIN)."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        raise CodesignError(f"NIR node {node!r}: {field} is empty")
    if not np.isfinite(a).all() or np.abs(a).max() >= 2.0**62 or (a != np.rint(a)).any():
        raise CodesignError(f"NIR node {node!r}: {field} must hold finite integers")
    return a.astype(np.int64)


def from_nir(g: nir.NIRGraph) -> Graph:
    """Rebuild the integer graph from a NIR graph written by to_nir."""
    if "codesign" not in (g.metadata or {}):
        raise CodesignError("NIR graph has no 'codesign' metadata (not written by codesign)")
    meta = json.loads(g.metadata["codesign"])
    layers = []
    for name, info in meta["layers"].items():
        neuron = g.nodes.get(name)
        if neuron is None:
            raise CodesignError(f"NIR graph: neuron node {name!r} missing")
        spiking = isinstance(neuron, nir.LIF)
        if not spiking and not isinstance(neuron, nir.LI):
            raise CodesignError(f"NIR node {name!r}: {type(neuron).__name__}, not LIF / LI")
        tau = _integers(name, "tau", neuron.tau)
        k = int(tau.flat[0]).bit_length() - 1
        shift_leak = (tau == 2**k).all() and k >= 0 and np.array_equal(neuron.r, neuron.tau)
        if not shift_leak or np.any(np.asarray(neuron.v_leak) != 0):
            raise CodesignError(f"NIR node {name!r}: tau/r/v_leak not a 2^k shift leak")
        oc = int(tau.shape[0])
        weight = None
        bias = np.zeros(oc)
        for wn in [s for s, t in g.edges if t == name]:
            wnode = g.nodes[wn]
            dn = next(s for s, t in g.edges if t == wn)
            d = int(_integers(dn, "delay", g.nodes[dn].delay).flat[0])
            w = _integers(wn, "weight", wnode.weight)
            if weight is None:
                weight = np.zeros((w.shape[0], w.shape[1], int(info["delays"]), *w.shape[2:]))
            if not 0 <= d < weight.shape[2] or w.shape != weight[:, :, d].shape:
                raise CodesignError(
                    f"NIR node {wn!r}: delay {d} or weight shape {w.shape} does not fit "
                    f"{weight.shape[2]} delays of {weight[:, :, 0].shape}"
                )
            weight[:, :, d] += w
            if getattr(wnode, "bias", None) is not None:
                b = _integers(wn, "bias", wnode.bias)
                if b.shape != (oc,):
                    raise CodesignError(f"NIR node {wn!r}: bias shape {b.shape}, not ({oc},)")
                bias = bias + b
        if weight is None:
            raise CodesignError(f"NIR node {name!r}: no synapse node feeds it")
        th = np.zeros(oc, dtype=np.int64)
        if spiking:
            vt = np.asarray(neuron.v_threshold, dtype=np.float64).reshape(oc, -1)[:, 0]
            th = _integers(name, "v_threshold + 0.5", vt + 0.5)
        layers.append(
            {
                "name": name,
                "weight": np.rint(weight).astype(np.int64),
                "threshold": th,
                "leak_shift": k,
                "spiking": spiking,
                "scale": np.asarray(info["scale"]),
                "weight_bits": info["weight_bits"],
                "quantizer": info["quantizer"],
                "bias": np.rint(bias).astype(np.int64),
            }
        )
    graph = build(
        meta["name"],
        meta["steps"],
        tuple(meta["input_shape"]),
        layers,
        meta["readout"],
        meta["v_bits"],
    )
    extra = meta.get("graph_meta", {})
    if not isinstance(extra, dict):
        raise CodesignError(f"NIR metadata 'graph_meta' is not a mapping: {extra!r}"[:200])
    graph.meta = {**extra, **graph.meta}  # what the layers say wins over the notes
    return graph


def save(graph: Graph, path: str | Path) -> Path:
    from codesign.atomic import atomic_path

    with atomic_path(path) as tmp:
        nir.write(str(tmp), to_nir(graph))
    return Path(path)


READ_TIMEOUT_S = 60.0  # a NIR file of any real network reads in well under a second


def _survives_reading(path: Path) -> bool:
    """Read the file once in a forked child: libhdf5 can crash the whole process (a segfault)
    or loop forever on a damaged container (both found by `make fuzz`), and no Python handler
    catches either. A child that dies by a signal, or is still reading after READ_TIMEOUT_S,
    marks the file as one the parent must not read."""
    import time

    if not hasattr(os, "fork"):
        return True
    pid = os.fork()
    if pid == 0:  # the child: any outcome but a crash is decided by the parent's own read
        try:
            nir.read(str(path), type_check=False)
        except BaseException:
            pass
        os._exit(0)
    deadline = time.monotonic() + READ_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return not os.WIFSIGNALED(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return False
        time.sleep(0.005)


def load(path: str | Path) -> Graph:
    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"no NIR file at {path}")
    if not _survives_reading(path):
        raise CodesignError(
            f"malformed NIR file {path}: its HDF5 container crashes or hangs the reader"
        )
    try:
        g = nir.read(str(path), type_check=False)
    except Exception as e:  # h5py / nir raise several types for a bad file
        raise CodesignError(f"malformed NIR file {path}: {first_line(e)}") from None
    try:
        return from_nir(g)
    except (KeyError, ValueError, TypeError, StopIteration, AttributeError, IndexError) as e:
        raise CodesignError(f"NIR file {path}: not a codesign spiking graph ({e!r})") from None
