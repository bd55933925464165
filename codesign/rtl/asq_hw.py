"""Hardware form of an ASQ stage (hw/rtl/cs_asq.v) and of its consumer's dynamic requantiser
(hw/rtl/cs_requant.v with DYN = 1): widths derived from the integer tables, $readmemh files,
parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.graph.core import symmetric_bits
from codesign.ir.graph import DenseLayer
from codesign.quant.asq_int import ADAPTER_W_MAX, H_BITS, AsqIntStage
from codesign.rtl.hexmem import pack_word, write_hex
from codesign.rtl.stage_hw import StageUnit

W_W = 8  # int8 adapter weights
FILES = ("w1", "b1", "m1", "sh1", "w2")


def _bits_unsigned(v: np.ndarray) -> int:
    return max(1, int(np.max(v)).bit_length())


@dataclass
class AsqHW:
    """cs_asq parameters for one stage; `in_beat` u codes per input beat, `lanes` dividers."""

    stage: AsqIntStage
    in_beat: int = 1
    lanes: int = 1

    def __post_init__(self) -> None:
        st = self.stage
        c = st.channels
        for what, v in (("in_beat", self.in_beat), ("lanes", self.lanes)):
            if not isinstance(v, int) or v < 1 or c % v:
                raise CodesignError(f"ASQ stage of '{st.layer}': {what}={v} must divide C={c}")
        if np.abs(st.w1).max(initial=0) > ADAPTER_W_MAX or np.abs(st.w2).max() > ADAPTER_W_MAX:
            raise CodesignError(f"ASQ stage of '{st.layer}': adapter weights outside int8")
        b1, b2 = st.acc_bounds
        self.acc1_w = max(symmetric_bits(b1), st.u_bits + 2, W_W + 1)
        self.acc2_w = max(symmetric_bits(b2), H_BITS + 2, W_W + 1)
        self.m1_w = _bits_unsigned(st.rq1.multiplier)
        self.sh1_w = _bits_unsigned(st.rq1.shift)
        self.m2 = int(st.rq2.multiplier[0])
        self.sh2 = int(st.rq2.shift[0])
        self.b2 = int(st.b2[0])
        if not -(2**31) <= self.b2 < 2**31 or self.m2 >= 2**31:
            raise CodesignError(f"ASQ stage of '{st.layer}': layer-2 constants exceed 32 bits")

    @property
    def cycles(self) -> int:
        """Latency of one vector without stalls (the schedule in cs_asq's header)."""
        st = self.stage
        c = st.channels
        groups = c // self.lanes
        return c // self.in_beat + c + 2 * st.hidden + 1 + groups * (st.bits + 2)

    def tables(self) -> dict[str, tuple[list[int], int]]:
        """cs_asq's $readmemh tables: parameter -> (words, width)."""
        st = self.stage
        w1 = [pack_word(st.w1[:, c].tolist(), W_W) for c in range(st.channels)]
        return {
            "W1_FILE": (w1, W_W * st.hidden),
            "B1_FILE": ([pack_word([b], self.acc1_w) for b in st.b1.tolist()], self.acc1_w),
            "M1_FILE": (st.rq1.multiplier.tolist(), self.m1_w),
            "SH1_FILE": (st.rq1.shift.tolist(), self.sh1_w),
            "W2_FILE": ([pack_word([w], W_W) for w in st.w2[0].tolist()], W_W),
        }

    def write_tables(self, out_dir: Path) -> dict[str, str]:
        """Write the tables under out_dir; returns {"w1": path, ...}."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        for param, (words, width) in self.tables().items():
            name = param.removesuffix("_FILE").lower()
            path = out_dir / f"{self.stage.layer}_asq_{name}.hex"
            write_hex(path, words, width)
            files[name] = str(path)
        return files

    def verilog_params(self, files: dict[str, str] | None = None) -> dict[str, object]:
        """Parameters of cs_asq; with `files` ({"w1": path, ...}) also the table files."""
        st = self.stage
        params: dict[str, object] = {
            "C": st.channels,
            "H": st.hidden,
            "IN_BEAT": self.in_beat,
            "U_W": st.u_bits,
            "W_W": W_W,
            "ACC1_W": self.acc1_w,
            "M1_W": self.m1_w,
            "SH1_W": self.sh1_w,
            "MAX_SH1": int(st.rq1.shift.max()),
            "H_W": H_BITS,
            "ACC2_W": self.acc2_w,
            "M2_W": max(1, self.m2.bit_length()),
            "SH2_W": max(1, self.sh2.bit_length()),
            "B2": self.b2,
            "M2": self.m2,
            "SH2": self.sh2,
            "G": st.G,
            "BITS": st.bits,
            "K": st.k,
            "LANES": self.lanes,
        }
        for name in FILES if files else ():
            params[f"{name.upper()}_FILE"] = files[name]
        return params


def asq_unit(
    stage: AsqIntStage, lanes: int, name: str, fold: tuple[int, int] = (1, 1)
) -> StageUnit:
    """cs_asq between two cs_mvu layers of a generated top (codesign.rtl.stage_hw): it takes the
    producer's PE-lane beats and gives the consumer `lanes` codes per beat with g on top.

    Interval: cs_asq takes a vector only between vectors, and a producer cs_mvu with (NF, SF)
    folds then delivers its NF beats in 1 + (NF - 1) * SF cycles (the first one is waiting).
    """
    hw = AsqHW(stage, lanes, lanes)
    beats = stage.channels // lanes
    nf, sf = fold
    return StageUnit(
        name=name,
        module="cs_asq",
        lib="cs_asq.v",
        lanes=lanes,
        in_w=stage.u_bits,
        out_w=stage.bits,
        params=hw.verilog_params(),
        latency=hw.cycles - beats,  # after the producer's last beat
        extra_w=stage.G,
        files=hw.tables(),
        interval=hw.cycles - beats + max(beats, 1 + (nf - 1) * sf),
        deps=("cs_requant_core.v",),
    )


def dyn_requant_params(layer: DenseLayer) -> dict[str, int]:
    """cs_requant parameters (DYN = 1) for a `dyn_in` layer (per-channel mult/shift per beat)."""
    if not layer.dyn_in:
        raise CodesignError(f"layer '{layer.name}' has no dynamic input scale")
    qmax = layer.in_q.hi
    raw = int((np.abs(layer.weight).sum(axis=1) * qmax).max())
    g_max = int(layer.attrs.get("dyn_max", 1))
    rq = layer.requant
    return {
        "DYN": 1,
        "ACC_W": symmetric_bits(raw),
        "G_W": max(1, g_max.bit_length()),
        "DYN_W": layer.acc_bits,
        "MULT_W": rq.multiplier_bits,
        "SHIFT_W": _bits_unsigned(rq.shift),
        "MAX_SHIFT": int(rq.shift.max()),
        "OUT_W": layer.out_q.bits,
        "LO": rq.lo,
        "HI": rq.hi,
        "ROUNDING": 0 if rq.rounding == "half_even" else 1,
    }
