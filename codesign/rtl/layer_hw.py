"""One DenseLayer + its folding -> the cs_mvu parameters and memory tables that implement it.

Everything the hardware stores is derived here, with the checks that make it exact: indices
decode to the layer's weights, every table value fits its field, accumulators are at least
DenseLayer.acc_bits wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer

WMODES = {"int": 0, "lut": 1, "shift": 2}
ROUNDING_CODES = {"half_even": 0, "half_up": 1}


def _bitlen(v: int) -> int:
    return max(1, int(v).bit_length())


def _signed_bits(values: np.ndarray) -> int:
    """Two's complement width holding every value (at least 2)."""
    if values.size == 0:
        return 2
    lo, hi = int(values.min()), int(values.max())
    hi_bits = hi.bit_length() if hi > 0 else 0
    lo_bits = (-lo - 1).bit_length() if lo < 0 else 0
    return max(2, max(hi_bits, lo_bits) + 1)


def _pow2_code(v: int) -> tuple[int, int, int] | None:
    """(zero, neg, k) with v = 0 or +-2**k, else None."""
    if v == 0:
        return (1, 0, 0)
    m = abs(v)
    if m & (m - 1):
        return None
    return (0, int(v < 0), m.bit_length() - 1)


@dataclass
class LayerHW:
    """cs_mvu parameters for one layer plus the integer tables its memories hold."""

    name: str
    n: int
    m: int
    pe: int
    simd: int
    in_beat: int
    in_w: int
    in_signed: bool
    wmode: str
    idx_w: int
    w_w: int
    acc_w: int
    mult_w: int
    shift_w: int
    max_shift: int
    out_w: int
    out_signed: bool
    out_lo: int
    out_hi: int
    rounding: str
    codes: np.ndarray  # (m, n) what the weight memory stores per weight
    table: np.ndarray | None  # decoder ROM entries (lut / shift modes)
    bias: np.ndarray
    mult: np.ndarray
    shift: np.ndarray
    acc_bits: int  # DenseLayer.acc_bits (the overflow bound)
    g_w: int = 0  # > 0: dynamic input scale g of this width arrives with the input (ASQ)

    @property
    def sf(self) -> int:
        return self.n // self.simd

    @property
    def nf(self) -> int:
        return self.m // self.pe

    @property
    def cycles(self) -> int:
        """Ideal cycles per vector: MACs / (PE * SIMD)."""
        return self.sf * self.nf

    # ------------------------------------------------------------------ memory words
    def weight_words(self) -> list[int]:
        """NF*SF words; word nf*SF+sf, lane p*SIMD+s holds the code of W[nf*PE+p, sf*SIMD+s]."""
        c = self.codes.reshape(self.nf, self.pe, self.sf, self.simd).transpose(0, 2, 1, 3)
        c = c.reshape(self.nf * self.sf, self.pe * self.simd)
        mask = (1 << self.idx_w) - 1
        words = []
        for row in c:
            w = 0
            for i, v in enumerate(row):
                w |= (int(v) & mask) << (i * self.idx_w)
            words.append(w)
        return words

    def fold_words(self, values: np.ndarray, bits: int) -> list[int]:
        """NF words of PE lanes (per-output-channel tables: bias, multiplier, shift)."""
        v = values.reshape(self.nf, self.pe)
        mask = (1 << bits) - 1
        return [sum((int(x) & mask) << (i * bits) for i, x in enumerate(row)) for row in v]

    def table_words(self) -> list[int]:
        """The codebook ROM, padded with zeros to all 2**idx_w entries (cs_lut_decode has no
        zero-fill loop: Yosys 0.23 keeps such a loop's zeros and drops the $readmemh data)."""
        assert self.table is not None
        mask = (1 << self.w_w) - 1
        words = [int(x) & mask for x in self.table]
        return words + [0] * ((1 << self.idx_w) - len(words))

    def verilog_params(self, files: dict[str, str]) -> dict[str, object]:
        return {
            "N": self.n,
            "M": self.m,
            "PE": self.pe,
            "SIMD": self.simd,
            "IN_BEAT": self.in_beat,
            "IN_W": self.in_w,
            "IN_SIGNED": int(self.in_signed),
            "WMODE": WMODES[self.wmode],
            "IDX_W": self.idx_w,
            "W_W": self.w_w,
            "ACC_W": self.acc_w,
            "MULT_W": self.mult_w,
            "SHIFT_W": self.shift_w,
            "MAX_SHIFT": self.max_shift,
            "OUT_W": self.out_w,
            "OUT_LO": self.out_lo,
            "OUT_HI": self.out_hi,
            "ROUNDING": ROUNDING_CODES[self.rounding],
            "W_FILE": files.get("weights", ""),
            "CB_FILE": files.get("table", ""),
            "BIAS_FILE": files["bias"],
            "MULT_FILE": files["mult"],
            "SHIFT_FILE": files["shift"],
            **({"G_W": self.g_w} if self.g_w else {}),
        }


def layer_hw(
    layer: DenseLayer, pe: int, simd: int, in_beat: int, shift_mode: bool = True
) -> LayerHW:
    """Derive and check the hardware form of `layer` (errors name the layer)."""
    name = layer.name
    rq = layer.requant
    w = np.asarray(layer.weight, dtype=np.int64)
    if layer.in_features % in_beat:
        raise CodesignError(
            f"layer '{name}': input beat of {in_beat} does not divide {layer.in_features} inputs"
        )
    if (rq.multiplier < 0).any() or (rq.shift < 0).any():
        raise CodesignError(f"layer '{name}': requant multiplier and shift must be >= 0")
    for arr, what in ((rq.multiplier, "multiplier"), (rq.shift, "shift"), (layer.bias, "bias")):
        if np.asarray(arr).shape != (layer.out_features,):
            raise CodesignError(f"layer '{name}': {what} must have one value per output")
    oq = layer.out_q
    if not (oq.lo <= rq.lo <= rq.hi <= oq.hi):
        raise CodesignError(
            f"layer '{name}': clamp [{rq.lo}, {rq.hi}] outside its {oq.bits}-bit output range"
        )

    table = None
    if layer.indices is not None and layer.codebook is not None:
        idx = np.asarray(layer.indices, dtype=np.int64)
        cb = np.asarray(layer.codebook, dtype=np.int64)
        idx_w = int(layer.weight_bits)
        if idx.shape != w.shape or idx.min(initial=0) < 0 or idx.max(initial=0) >= len(cb):
            raise CodesignError(f"layer '{name}': indices do not address its codebook")
        if len(cb) > (1 << idx_w):
            raise CodesignError(
                f"layer '{name}': codebook of {len(cb)} levels does not fit {idx_w}-bit indices"
            )
        if not np.array_equal(cb[idx], w):
            raise CodesignError(f"layer '{name}': codebook[indices] differs from its weights")
        codes = idx
        pow2 = [_pow2_code(int(v)) for v in cb]
        if shift_mode and all(p is not None for p in pow2):
            kw = _bitlen(max(p[2] for p in pow2))  # type: ignore[index]
            entries = [(z << (kw + 1)) | (n << kw) | k for z, n, k in pow2]  # type: ignore[misc]
            entries += [1 << (kw + 1)] * ((1 << idx_w) - len(cb))  # unused codes decode to 0
            wmode, w_w, table = "shift", kw + 2, np.array(entries, dtype=np.int64)
        else:
            padded = np.zeros(1 << idx_w, dtype=np.int64)
            padded[: len(cb)] = cb
            wmode, w_w, table = "lut", _signed_bits(cb), padded
    else:
        idx_w = int(layer.weight_bits)
        if _signed_bits(w) > idx_w:
            raise CodesignError(
                f"layer '{name}': integer weights need {_signed_bits(w)} bits, "
                f"weight_bits says {idx_w}"
            )
        codes, wmode, w_w = w, "int", idx_w

    in_q = layer.in_stage.decoded_q if layer.in_stage is not None else layer.in_q  # matmul input
    in_w = in_q.bits
    w_int_w = _signed_bits(w)
    acc_w = max(layer.acc_bits, in_w + 1, w_w + 1, w_int_w + 1)
    bias = np.asarray(layer.bias, dtype=np.int64)
    if _signed_bits(bias) > acc_w:
        raise CodesignError(f"layer '{name}': bias does not fit the {acc_w}-bit accumulator")
    max_shift = int(rq.shift.max()) if rq.shift.size else 0
    return LayerHW(
        name=name,
        n=layer.in_features,
        m=layer.out_features,
        pe=pe,
        simd=simd,
        in_beat=in_beat,
        in_w=in_w,
        in_signed=in_q.signed,
        wmode=wmode,
        idx_w=idx_w,
        w_w=w_w,
        acc_w=acc_w,
        mult_w=_bitlen(int(rq.multiplier.max())),
        shift_w=_bitlen(max_shift),
        max_shift=max_shift,
        out_w=oq.bits,
        out_signed=oq.signed,
        out_lo=int(rq.lo),
        out_hi=int(rq.hi),
        rounding=rq.rounding,
        codes=codes,
        table=table,
        bias=bias,
        mult=np.asarray(rq.multiplier, dtype=np.int64),
        shift=np.asarray(rq.shift, dtype=np.int64),
        acc_bits=layer.acc_bits,
        g_w=int(layer.attrs.get("dyn_max", 1)).bit_length() if layer.dyn_in else 0,
    )
