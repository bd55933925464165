"""The one graph -> an MVU chain (IntGraph): the lowering the dense backends read.

Our RTL generator, hls4ml and FINN bridges, the SFQ and ReRAM simulators and the digital energy
model take a network as a chain of fused layers (weights, bias, per-channel multiply-shift
requantisation, optional activation stages). This module builds that view from the one integer
graph (codesign/graph) by a table of per-op lowerings; it computes nothing itself: golden values
come from the graph's executor (`run`), under the chain's layer names ("fc0", "fc0.pre", ...).
An op no entry takes stops with the node, the op and what can take it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.graph import execute
from codesign.graph.core import Graph, Node, Tensor
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

MAX_MULTIPLIER_BITS = 31
TAKES = (
    "Quantize, Dense, Mul (ASQ's g), Requant (multiply-shift), AsqDivide, LogQuant's encode/decode"
)
OTHER_BACKENDS = "`codesign golden` and `codesign energy` take every op of the graph"


def load_int_graph(path: str | Path, name: str | None = None) -> IntGraph:
    """An exported or imported QONNX file, read by the one frontend, lowered to a chain."""
    from codesign.graph.frontends import qonnx

    path = Path(path)
    if not path.is_file():
        raise CodesignError(f"ONNX file not found: {path} (run `codesign export` first)")
    return from_onnx(qonnx.load(path), name or path.parent.parent.name)


def from_onnx(proto, name: str = "model") -> IntGraph:
    """An in-memory QONNX model through the one frontend, lowered to a chain."""
    from codesign.graph.frontends import qonnx

    return lower(qonnx.import_model(proto, name).graph)


def run(chain: IntGraph, x_int: np.ndarray) -> dict[str, np.ndarray]:
    """Golden tensors of the chain's layers for integer inputs: the one graph's executor, fed at
    the chain's input tensor; {'input': x, 'fc0': ..., stage tensors ...} in chain order."""
    if chain.source is None:
        raise_to_graph(chain)
    x = np.asarray(x_int)
    if not np.issubdtype(x.dtype, np.integer):
        if np.any(x != np.round(x)):
            raise CodesignError(f"input of '{chain.name}' must be integers")
        x = x.astype(np.int64)
    first = chain.layers[0]
    if x.ndim != 2 or x.shape[1] != first.in_features:
        raise CodesignError(
            f"layer '{first.name}' expects {first.in_features} inputs, got shape {tuple(x.shape)}"
        )
    q = chain.input_q
    if x.size and (x.min() < q.lo or x.max() > q.hi):
        raise CodesignError(f"input of '{chain.name}' outside its {q.bits}-bit range")
    values = execute.run_from(chain.source, {chain.tensor_of["input"]: x.astype(np.int64)})
    return _named(chain, values)


def raise_to_graph(chain: IntGraph) -> None:
    """Give a hand-built chain (synthetic models for tests and benchmarks) its one graph, so it
    runs on the one executor too: integer input, then Dense and a multiply-shift Requant per
    layer. Per-channel shifts become one common shift with the multipliers scaled up (the same
    integers); half_up is FLOOR after adding half an output step."""
    from codesign.graph.build import emit
    from codesign.graph.core import IntType
    from codesign.graph.ops.quantize import per_channel_shift_form

    for lay in chain.layers:
        if lay.stages or lay.dyn_in:
            raise CodesignError(f"layer '{lay.name}': a hand-built chain cannot carry stages")
    q = chain.input_q
    g = Graph(name=chain.name, inputs=["input"], outputs=[])
    g.add_tensor(Tensor("input", (chain.layers[0].in_features,), IntType(q.lo, q.hi)))
    tensor_of, head = {"input": "input"}, "input"
    for lay in chain.layers:
        rq = lay.requant
        acc = emit(g, "Dense", lay.name + "_acc", [head], params={"weight": lay.weight})
        try:
            params, attrs = per_channel_shift_form(
                rq.multiplier, rq.shift, lay.bias, rq.lo, rq.hi, rq.rounding == "half_up"
            )
        except CodesignError as e:
            raise CodesignError(f"layer '{lay.name}': {e}") from None
        head = emit(g, "Requant", lay.name, [acc.name], attrs=attrs, params=params).name
        tensor_of[lay.name] = head
    g.outputs.append(head)
    chain.source, chain.tensor_of = g, tensor_of


def run_float(chain: IntGraph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Golden tensors for float inputs: the graph's own input quantizer makes the integers."""
    if chain.source is None or chain.source.tensors[chain.source.inputs[0]].itype is not None:
        raise CodesignError(f"chain '{chain.name}' has no float input quantizer")
    values = execute.run(chain.source, np.asarray(x, dtype=np.float64))
    return _named(chain, values)


def _named(chain: IntGraph, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {name: values[t] for name, t in chain.tensor_of.items()}
    for name in out:
        if name.endswith(".g"):  # ASQ's factor: one per sample, (batch,) in the chain's tensors
            out[name] = out[name].reshape(-1)
    return out


# ---------------------------------------------------------------- lowering


def _pow2(v: Fraction, what: str) -> int:
    num, den = v.numerator, v.denominator
    if v <= 0 or (num & (num - 1)) or (den & (den - 1)):
        raise CodesignError(f"{what}: scale {float(v):g} is not a power of two")
    return num.bit_length() - den.bit_length()


def _quant_spec(t: Tensor, what: str) -> QuantSpec:
    """The chain's activation format of a tensor: full-range integers times a power of two."""
    if t.real is None or t.itype is None:
        raise CodesignError(f"{what}: tensor '{t.name}' has no integer format")
    pc = t.real.per_channel(t.shape[0] if t.shape else 1)
    if pc is None or len(set(pc[0])) != 1 or any(o != 0 for o in pc[1]):
        raise CodesignError(f"{what}: the MVU chain needs one power-of-two scale and no offset")
    lo, hi = t.itype.lo, t.itype.hi
    signed = lo < 0
    bits = t.itype.bits
    spec = QuantSpec(bits=bits, signed=signed, scale_exp=_pow2(pc[0][0], what))
    if signed and (lo, hi) != (spec.lo, spec.hi) or not signed and hi > spec.hi:
        raise CodesignError(f"{what}: range [{lo}, {hi}] is not a full {bits}-bit range")
    return spec


def _requant(node: Node, what: str) -> tuple[Requant, np.ndarray]:
    """(multiply-shift per channel, bias in accumulator units) of a dyadic Requant."""
    p, a = node.params, node.attrs
    if "mult" not in p or a.get("mode") != "ROUND":
        raise CodesignError(
            f"{what}: node '{node.name}' (Requant) has no round-half-even multiply-shift form "
            f"(a non-power-of-two scale ratio); the MVU chain needs one. {OTHER_BACKENDS}"
        )
    shift = int(a["shift"])
    ms, shs, bias = [], [], []
    for c, (m, add) in enumerate(zip(p["mult"].tolist(), p["add"].tolist(), strict=True)):
        if m < 0:
            raise CodesignError(f"{what}: channel {c} has a negative multiplier")
        if m == 0:
            if add != 0:
                raise CodesignError(
                    f"{what}: channel {c} is a constant (multiplier 0, offset {add}); the MVU "
                    f"chain has no constant channels. {OTHER_BACKENDS}"
                )
            ms.append(0), shs.append(0), bias.append(0)
            continue
        b = Fraction(add, m)
        if b.denominator != 1:
            raise CodesignError(
                f"{what}: channel {c}'s bias {float(b):g} is not on the accumulator grid; the MVU "
                f"chain adds integer biases. {OTHER_BACKENDS}"
            )
        r = Fraction(m, 2**shift)  # lowest terms: the smallest multiplier of this ratio
        if r.numerator.bit_length() > MAX_MULTIPLIER_BITS:
            raise CodesignError(f"{what}: channel {c}'s requant multiplier exceeds 31 bits")
        ms.append(r.numerator), shs.append(r.denominator.bit_length() - 1), bias.append(int(b))
    rq = Requant(np.array(ms), np.array(shs), lo=int(a["lo"]), hi=int(a["hi"]))
    return rq, np.array(bias, dtype=np.int64)


@dataclass
class _Pending:
    """What the next layer inherits from the stage before it."""

    in_q: QuantSpec
    in_stage: object | None = None
    dyn_in: bool = False
    attrs: dict = field(default_factory=dict)


class _Lower:
    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.layers: list[DenseLayer] = []
        self.tensor_of: dict[str, str] = {}
        self.dense: Node | None = None
        self.mul: Node | None = None
        self.pending: _Pending | None = None
        self.skip: set[str] = set()  # nodes an ASQ stage took (its adapter)
        self.head = ""  # the tensor the chain has reached: the next op must read it

    def follow(self, node: Node, what: str) -> None:
        if node.inputs[0] != self.head:
            self.refuse(node, f"{what} must read '{self.head}' (the chain has no branches)")

    def refuse(self, node: Node, why: str = "") -> None:
        raise CodesignError(
            f"node '{node.name}' ({node.op}) of '{self.g.name}' cannot go to the MVU chain "
            f"(RTL, hls4ml, FINN, SFQ, ReRAM){': ' + why if why else ''}; it takes {TAKES}. "
            f"{OTHER_BACKENDS}"
        )

    def run(self) -> IntGraph:
        for node in self.g.nodes:
            if node.name in self.skip:
                continue
            handler = getattr(self, f"op_{node.op}", None)
            if handler is None:
                self.refuse(node)
            handler(node)
        if self.dense is not None or not self.layers:
            raise CodesignError(f"'{self.g.name}': the chain must end with a requantised layer")
        if self.g.outputs != [self.tensor_of[self.layers[-1].name]]:
            raise CodesignError(f"'{self.g.name}': the graph output is not the last layer's")
        for lay in self.layers:
            if lay.acc_bits + lay.requant.multiplier_bits > 62:
                raise CodesignError(f"layer '{lay.name}': accumulator x multiplier exceeds 62 bits")
        pos = {o: i for i, n in enumerate(self.g.nodes) for o in n.outputs}
        pos[self.g.inputs[0]] = -1
        order = sorted(self.tensor_of, key=lambda k: pos[self.tensor_of[k]])
        self.tensor_of = {k: self.tensor_of[k] for k in order}
        return IntGraph(
            name=self.g.name,
            input_q=self.input_q,
            layers=self.layers,
            source=self.g,
            tensor_of=self.tensor_of,
        )

    def op_Quantize(self, node: Node) -> None:
        if self.layers or self.pending is not None:
            self.refuse(node, "only one input quantizer, first")
        t = self.g.tensors[node.outputs[0]]
        self.input_q = _quant_spec(t, "the input quantizer")
        self.tensor_of["input"] = t.name
        self.pending = _Pending(self.input_q)
        self.head = t.name

    def op_Dense(self, node: Node) -> None:
        if self.pending is None or self.dense is not None:
            self.refuse(node, "a layer must read the previous layer's requantised output")
        self.follow(node, "a layer")
        self.dense = node
        self.head = node.outputs[0]

    def op_Mul(self, node: Node) -> None:
        if self.dense is None or not self.pending.dyn_in or node.inputs[0] != self.dense.outputs[0]:
            self.refuse(node, "only ASQ's factor g on an accumulator")
        if node.inputs[1] != self.tensor_of[f"{self.layers[-1].name}.g"]:
            self.refuse(node, "the factor must be the previous ASQ stage's g")
        self.mul = node
        self.head = node.outputs[0]

    def op_Requant(self, node: Node) -> None:
        if "adalog" in node.attrs:
            return self.adalog_encode(node)
        if self.dense is None:
            self.refuse(node, "a requantisation must follow a layer")
        if self.pending.dyn_in and self.mul is None:
            self.refuse(node, "a layer after ASQ must multiply its accumulator by g")
        self.follow(node, "a requantisation")
        name = f"fc{len(self.layers)}"
        rq, bias = _requant(node, f"layer '{name}'")
        out_t = self.g.tensors[node.outputs[0]]
        out_q = _quant_spec(out_t, f"layer '{name}' output")
        d, pend = self.dense, self.pending
        w = d.params["weight"].astype(np.int64)
        cb, idx = d.params.get("codebook"), d.params.get("indices")
        if cb is not None and not np.array_equal(cb[idx], d.params["weight"]):
            self.refuse(d, "its stored codebook indices do not give its weights")
        lut = d.attrs.get("lut") or {}
        attrs = {**lut, **pend.attrs, "onnx_node": d.name}
        self.layers.append(
            DenseLayer(
                name=name,
                weight=w,
                bias=bias,
                requant=rq,
                in_q=pend.in_q,
                out_q=out_q,
                relu=rq.lo >= 0 and not out_q.signed,
                quantizer="post" if cb is not None else "uniform",
                weight_bits=int(d.attrs.get("weight_bits", 0))
                or max(1, int(np.ceil(np.log2(len(cb))))),
                codebook=None if cb is None else cb.astype(np.int64),
                indices=None if idx is None else idx.astype(np.int64),
                attrs=attrs,
                in_stage=pend.in_stage,
                dyn_in=pend.dyn_in,
            )
        )
        self.tensor_of[name] = out_t.name
        self.dense, self.mul, self.pending = None, None, _Pending(out_q)
        self.head = out_t.name

    def _last_output(self, node: Node) -> DenseLayer:
        self.follow(node, "an activation stage")
        lay = self.layers[-1] if self.layers else None
        if lay is None or lay.out_stage is not None or node.inputs[0] != self.tensor_of[lay.name]:
            self.refuse(node, "an activation stage must follow a layer's requantisation")
        return lay

    def adalog_encode(self, node: Node) -> None:
        from codesign.quant.adalog_ir import AdaLogEncode

        lay = self._last_output(node)
        spec = _log_spec(node)
        if lay.out_q.signed or lay.out_q.bits != spec.in_bits:
            self.refuse(node, f"expects unsigned {spec.in_bits}-bit input")
        lay.out_stage = AdaLogEncode(spec)
        self.tensor_of[f"{lay.name}.pre"] = self.tensor_of[lay.name]
        self.tensor_of[lay.name] = node.outputs[0]
        self.pending = _Pending(QuantSpec(bits=spec.bits, signed=False, scale_exp=0))
        self.head = node.outputs[0]

    def op_Lookup(self, node: Node) -> None:
        from codesign.quant.adalog_ir import AdaLogDecode

        if "adalog" not in node.attrs or self.dense is not None or not self.layers:
            self.refuse(node, "only AdaLog's decoder, between two layers")
        self.follow(node, "the decoder")
        spec = _log_spec(node)
        consumer = f"fc{len(self.layers)}"
        dec = AdaLogDecode(spec, int(node.attrs["a_exp"]) - spec.frac_bits, record=f"{consumer}.in")
        self.tensor_of[f"{consumer}.in"] = node.outputs[0]
        self.pending = _Pending(self.pending.in_q, in_stage=dec, attrs={"adalog": spec.as_dict()})
        self.head = node.outputs[0]

    def op_AsqDivide(self, node: Node) -> None:
        """AsqDivide(u, g) with g from the adapter Dense-Requant-Dense-Requant on u."""
        from codesign.quant.asq_int import AsqIntStage

        lay = self._last_output(node)
        u, g = node.inputs
        chain = _adapter_nodes(self.g, node)
        if [p.op for p in chain] != ["Requant", "Dense", "Requant", "Dense"]:
            self.refuse(node, "its g must come from the adapter Dense-Requant-Dense-Requant")
        if chain[-1].inputs[0] != u:
            self.refuse(node, "the adapter must read the same codes u")
        rq2n, fc2, rq1n, fc1 = chain
        rq1, b1 = _requant(rq1n, f"ASQ adapter of '{lay.name}'")
        rq2, b2 = _requant(rq2n, f"ASQ adapter of '{lay.name}'")
        a = node.attrs
        st = AsqIntStage(
            layer=lay.name,
            w1=fc1.params["weight"].astype(np.int64),
            b1=b1,
            rq1=rq1,
            w2=fc2.params["weight"].astype(np.int64),
            b2=b2,
            rq2=rq2,
            **{k: int(a[k]) for k in ("bits", "G", "Gf", "k", "e_u", "e_base")},
            u_bits=lay.out_q.bits,
        )
        lay.out_stage = st
        self.tensor_of[f"{lay.name}.pre"] = u
        self.tensor_of[f"{lay.name}.h"] = rq1n.outputs[0]
        self.tensor_of[f"{lay.name}.g"] = g
        self.tensor_of[lay.name] = node.outputs[0]
        self.pending = _Pending(
            st.decoded_q, dyn_in=True, attrs={"dyn_max": 2**st.G - 1, "asq_Gf": st.Gf}
        )
        self.head = node.outputs[0]


def _log_spec(node: Node):
    from codesign.quant.adalog_rule import LogQuantSpec

    d = node.attrs["adalog"]
    return LogQuantSpec(d["bits"], d["q"], d["r"], d["frac_bits"], d["a_off"], d["in_bits"])


def _adapter_nodes(graph: Graph, node: Node) -> list[Node]:
    """The (up to four) producers behind an AsqDivide's g, nearest first: its adapter."""
    out, t = [], node.inputs[1]
    while len(out) < 4 and (p := graph.producer(t)) is not None:
        out.append(p)
        t = p.inputs[0]
    return out


def _mark_adapters(graph: Graph) -> set[str]:
    """Names of the nodes that compute ASQ's g (lowered as part of the AsqDivide stage)."""
    return {p.name for n in graph.nodes if n.op == "AsqDivide" for p in _adapter_nodes(graph, n)}


def lower(graph: Graph) -> IntGraph:
    """The chain view of `graph`, or a CodesignError naming the node the chain cannot take."""
    low = _Lower(graph)
    low.skip = _mark_adapters(graph)
    return low.run()
