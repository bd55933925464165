"""ASQ in integers: the adapter datapath, the dynamic-step division, its ONNX op and IR stage.

ASQ (arXiv 2504.17263, code SENGEL13/ASQ-POST) scales a learnable base step by a per-input
factor from a small adapter. In integers, for one sample with 8-bit codes u (real u * 2**e_u):

  h = clamp(round((W1 @ u + b1) * m1 / 2**sh1), 0, 255)       adapter hidden, real h * 2**e_h
  g = clamp(round((W2 @ h + b2) * m2 / 2**sh2), 1, 2**G - 1)  gamma = g / 2**Gf (unsigned UQ.Gf)
  q = clamp(round(u * 2**k / g), 0, 2**bits - 1)              k = Gf + e_u - e_base

(round = half to even; W1, W2 int8; b1, b2 on their accumulator grids; the ReLUs are the clamps'
lower bounds, and g >= 1 keeps the step non-zero). Real value of q: q * 2**e_base * g / 2**Gf.
The next layer therefore computes acc = (W @ q) * g + bias with its bias on the static grid
2**(e_base - Gf) * s_w: `dyn_in` in codesign.ir.graph, g passed in ctx["g"].

Importing this module registers the `codesign.AsqQuant` op with qonnx (through the lazy table in
codesign.ir.custom_ops); the one graph's AsqDivide op (codesign/graph/ops/adaptive.py) is the
division, and codesign/ir/chain.py lowers it back to this stage for the RTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import symmetric_bits
from codesign.graph.ops.adaptive import asq_divide
from codesign.ir.custom_ops import FloatLikeFirstInput
from codesign.ir.golden import matmul_exact, requantize
from codesign.ir.graph import QuantSpec, Requant
from codesign.quant.common import check_bits

OP_TYPE = "AsqQuant"
G_RANGE = (2, 16)  # adapter output width G (bits of g)
MAX_K = 16  # |k|: keeps u * 2**k and g * 2**-k small (exactness argument in asq.py, RTL widths)
ADAPTER_W_MAX = 127  # int8 narrow range
H_BITS = 8  # adapter hidden activations: unsigned 8-bit power-of-two grid


def check_config(bits: int, G: int, Gf: int) -> None:
    """Reject ASQ settings the integer rule and the RTL do not support (one CodesignError)."""
    check_bits(bits, "ASQ activation quantizer")
    if not isinstance(G, int) or not G_RANGE[0] <= G <= G_RANGE[1]:
        raise CodesignError(f"ASQ: adapter output width G={G!r} out of range {G_RANGE[0]}..16")
    if not isinstance(Gf, int) or not 0 <= Gf < G:
        raise CodesignError(
            f"ASQ: adapter fraction bits Gf={Gf!r} must be 0..G-1={G - 1} (gamma = 1 must fit)"
        )


def check_k(k: int, what: str) -> int:
    if not -MAX_K <= k <= MAX_K:
        raise CodesignError(
            f"{what}: ASQ shift k={k} out of range -{MAX_K}..{MAX_K} (base step too far from "
            "the input grid)"
        )
    return k


@dataclass
class AsqIntStage:
    """The ASQ out_stage of a layer in the IntGraph (codesign.ir.graph.Stage protocol)."""

    layer: str  # the layer it is attached to (recorded tensors are "<layer>.h", "<layer>.g")
    w1: np.ndarray  # (H, C) int8 values
    b1: np.ndarray  # (H,)
    rq1: Requant  # -> h, lo 0, hi 255
    w2: np.ndarray  # (1, H)
    b2: np.ndarray  # (1,)
    rq2: Requant  # -> g, lo 1, hi 2**G - 1
    bits: int
    G: int
    Gf: int
    k: int
    e_u: int
    e_base: int
    u_bits: int = 8  # width of the unsigned input codes u
    kind: str = "asq"

    @property
    def decoded_q(self) -> QuantSpec:
        """The codes q on the static grid 2**(e_base - Gf); the sample's g multiplies it."""
        return QuantSpec(self.bits, False, self.e_base - self.Gf)

    @property
    def channels(self) -> int:
        return int(self.w1.shape[1])

    @property
    def hidden(self) -> int:
        return int(self.w1.shape[0])

    def adapter(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(h (B, H), g (B,)) for codes u (B, C); GAP over a (B, C) vector is the identity."""
        h = requantize(matmul_exact(u, self.w1.T) + self.b1, self.rq1)
        g = requantize(matmul_exact(h, self.w2.T) + self.b2, self.rq2)
        return h, g[:, 0]

    def apply(self, x: np.ndarray, ctx: dict) -> np.ndarray:
        u = np.asarray(x, dtype=np.int64)
        if u.ndim != 2 or u.shape[1] != self.channels:
            raise CodesignError(
                f"ASQ stage of '{self.layer}' expects (batch, {self.channels}), got {u.shape}"
            )
        h, g = self.adapter(u)
        rec = ctx.setdefault("record", {})
        rec[f"{self.layer}.h"] = h
        rec[f"{self.layer}.g"] = g
        ctx["g"] = g
        return asq_divide(u, g, self.k, self.bits)

    @property
    def acc_bounds(self) -> tuple[int, int]:
        """Largest |accumulator| of the adapter's two layers (u and h at their maxima)."""
        umax = 2**self.u_bits - 1
        b1 = int((np.abs(self.w1).sum(axis=1) * umax + np.abs(self.b1)).max())
        b2 = int(np.abs(self.w2).sum() * (2**H_BITS - 1) + np.abs(self.b2).max())
        return b1, b2

    def ops(self, features: int) -> dict[str, int]:
        """Per sample, at the widths this stage's arithmetic needs (energy prices bit widths):
        - "mult": the adapter's 8x8 products (u x W1, h x W2);
        - "add_bits": their accumulations at the signed accumulator widths, plus the restoring
          division's bits + 1 compare-subtract steps per element on g << max(-k, 0) and a sign;
        - "mult_bits": the two requantisations, accumulator width x multiplier width each.
        """
        c, hd = self.channels, self.hidden
        acc1, acc2 = (symmetric_bits(b) for b in self.acc_bounds)
        m1 = sum(max(1, int(m).bit_length()) for m in self.rq1.multiplier)
        m2 = max(1, int(self.rq2.multiplier[0]).bit_length())
        div = self.G + max(-self.k, 0) + 1
        return {
            "mult": c * hd + hd,
            "add_bits": c * hd * acc1 + hd * acc2 + features * (self.bits + 1) * div,
            "mult_bits": acc1 * m1 + acc2 * m2,
        }


def stage_from_arrays(layer: str, arrays: dict, attrs: dict, what: str) -> AsqIntStage:
    """Build and check an AsqIntStage from the op's integer inputs and attributes."""
    bits, G, Gf = int(attrs["bits"]), int(attrs["G"]), int(attrs["Gf"])
    try:
        check_config(bits, G, Gf)
    except CodesignError as e:
        raise CodesignError(f"{what}: {e}") from None
    k = check_k(int(attrs["k"]), what)
    if k != Gf + int(attrs["e_u"]) - int(attrs["e_base"]):
        raise CodesignError(f"{what}: k != Gf + e_u - e_base")
    a = {n: np.asarray(v).astype(np.int64) for n, v in arrays.items()}
    w1, w2 = a["w1"], a["w2"].reshape(1, -1)
    if w1.ndim != 2 or w2.shape[1] != w1.shape[0]:
        raise CodesignError(f"{what}: adapter weights {w1.shape} / {w2.shape} do not chain")
    hd = w1.shape[0]
    for n in ("w1", "w2"):
        if np.abs(a[n]).max(initial=0) > ADAPTER_W_MAX:
            raise CodesignError(f"{what}: adapter weight {n} outside int8")
    for n, size in (("b1", hd), ("m1", hd), ("sh1", hd), ("b2", 1), ("m2", 1), ("sh2", 1)):
        if a[n].size != size:
            raise CodesignError(f"{what}: {n} has {a[n].size} values, expected {size}")
        a[n] = a[n].reshape(-1)
    for n in ("m1", "sh1", "m2", "sh2"):
        if a[n].min() < 0 or a[n].max() >= 2**31:
            raise CodesignError(f"{what}: requant constant {n} outside 0..2**31-1")
    for n in ("sh1", "sh2"):
        if a[n].max() > 62:
            raise CodesignError(f"{what}: requant shift {n} above 62")
    return AsqIntStage(
        layer=layer,
        w1=w1,
        b1=a["b1"],
        rq1=Requant(a["m1"], a["sh1"], lo=0, hi=2**H_BITS - 1),
        w2=w2,
        b2=a["b2"],
        rq2=Requant(a["m2"], a["sh2"], lo=1, hi=2**G - 1),
        bits=bits,
        G=G,
        Gf=Gf,
        k=k,
        e_u=int(attrs["e_u"]),
        e_base=int(attrs["e_base"]),
    )


INPUTS = ("x", "w1", "b1", "m1", "sh1", "w2", "b2", "m2", "sh2")
ATTRS = ("bits", "G", "Gf", "k", "e_u", "e_base")


class AsqQuant(FloatLikeFirstInput):
    """codesign.AsqQuant(x, w1, b1, m1, sh1, w2, b2, m2, sh2) -> y (real values).

    x: the 8-bit power-of-two activation (real, scale 2**e_u); the others are int64 constants
    (adapter weights, biases on the accumulator grids, requantisation multipliers and shifts).
    y = q * 2**e_base * g / 2**Gf. Attributes: bits, G, Gf, k, e_u, e_base (see module doc).
    """

    def get_nodeattr_types(self):
        return {
            "bits": ("i", True, 4),
            "G": ("i", True, 8),
            "Gf": ("i", True, 4),
            "k": ("i", True, 0),
            "e_u": ("i", True, 0),
            "e_base": ("i", True, 0),
        }

    def execute_node(self, context, graph):
        node = self.onnx_node
        attrs = {a: self.get_nodeattr(a) for a in ATTRS}
        arrays = {n: context[i] for n, i in zip(INPUTS[1:], node.input[1:], strict=True)}
        st = stage_from_arrays("asq", arrays, attrs, f"node '{node.name}' ({OP_TYPE})")
        x = np.asarray(context[node.input[0]], dtype=np.float64)
        u = np.round(x * 2.0**-st.e_u).astype(np.int64)
        q = st.apply(u, {})
        _, g = st.adapter(u)
        y = q * g[:, None] * 2.0 ** (st.e_base - st.Gf)
        context[node.output[0]] = y.astype(np.float32)

    def verify_node(self):
        return []
