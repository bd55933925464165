"""Hardware form of an ASQ stage (hw/rtl/cs_asq.v) and of its consumer's dynamic requantiser
(hw/rtl/cs_requant_dyn.v): widths derived from the integer tables, $readmemh files, parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer
from codesign.quant.asq_int import ADAPTER_W_MAX, H_BITS, AsqIntStage
from codesign.rtl.hexmem import pack_word, write_hex

W_W = 8  # int8 adapter weights
FILES = ("w1", "b1", "m1", "sh1", "w2")


def _bits_signed(bound: int) -> int:
    """Two's complement width holding -bound .. bound."""
    return int(bound).bit_length() + 1


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
        umax = 2**st.u_bits - 1
        b1 = (np.abs(st.w1).sum(axis=1) * umax + np.abs(st.b1)).max()
        self.acc1_w = max(_bits_signed(b1), st.u_bits + 2, W_W + 1)
        b2 = int(np.abs(st.w2).sum() * (2**H_BITS - 1) + np.abs(st.b2).max())
        self.acc2_w = max(_bits_signed(b2), H_BITS + 2, W_W + 1)
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

    def write_tables(self, out_dir: Path) -> dict[str, str]:
        """$readmemh files of the adapter; returns {name: path}."""
        st = self.stage
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        words = {
            "w1": (
                [pack_word(st.w1[:, c].tolist(), W_W) for c in range(st.channels)],
                W_W * st.hidden,
            ),
            "b1": ([pack_word([b], self.acc1_w) for b in st.b1.tolist()], self.acc1_w),
            "m1": (st.rq1.multiplier.tolist(), self.m1_w),
            "sh1": (st.rq1.shift.tolist(), self.sh1_w),
            "w2": ([pack_word([w], W_W) for w in st.w2[0].tolist()], W_W),
        }
        files = {}
        for name in FILES:
            w, width = words[name]
            path = out_dir / f"{st.layer}_asq_{name}.hex"
            write_hex(path, w, width)
            files[name] = str(path)
        return files

    def verilog_params(self, files: dict[str, str]) -> dict[str, object]:
        st = self.stage
        return {
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
            "W1_FILE": files["w1"],
            "B1_FILE": files["b1"],
            "M1_FILE": files["m1"],
            "SH1_FILE": files["sh1"],
            "W2_FILE": files["w2"],
        }


def dyn_requant_params(layer: DenseLayer) -> dict[str, int]:
    """cs_requant_dyn parameters for a `dyn_in` layer (per-channel mult/shift come per beat)."""
    if not layer.dyn_in:
        raise CodesignError(f"layer '{layer.name}' has no dynamic input scale")
    qmax = layer.in_q.hi
    raw = int((np.abs(layer.weight).sum(axis=1) * qmax).max())
    g_max = int(layer.attrs.get("dyn_max", 1))
    rq = layer.requant
    return {
        "ACC_W": _bits_signed(raw),
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


def standalone(hw: AsqHW, out_dir: str | Path) -> Path:
    """A folder with cs_asq, its tables and a parameter-free top (`asq_<layer>_top`) plus
    manifest.json, so codesign.rtl.synth.synthesize takes it like a model."""
    import json
    import shutil

    from codesign.rtl.toolenv import HW_RTL

    out = Path(out_dir)
    files = {k: str(Path(v).resolve()) for k, v in hw.write_tables(out / "mem").items()}
    for lib in ("cs_requant_core.v", "cs_asq.v"):
        shutil.copyfile(HW_RTL / lib, out / lib)
    st = hw.stage
    top = f"asq_{st.layer}_top"
    iw, qw = hw.in_beat * st.u_bits, hw.lanes * st.bits
    params = ",\n".join(
        f"        .{k}({chr(34) + v + chr(34) if isinstance(v, str) else v})"
        for k, v in hw.verilog_params(files).items()
    )
    v = f"""`timescale 1ns / 1ps
// {top} -- cs_asq with fixed parameters (generated by codesign.rtl.asq_hw).
module {top} (
    input  wire clk,
    input  wire rst_n,
    input  wire in_valid,
    output wire in_ready,
    input  wire [{iw - 1}:0] in_data,
    output wire out_valid,
    input  wire out_ready,
    output wire [{st.G + qw - 1}:0] out_data
);
    cs_asq #(
{params}
    ) u_asq (
        .clk(clk),
        .rst_n(rst_n),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .in_data(in_data),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_data(out_data)
    );
endmodule
"""
    (out / f"{top}.v").write_text(v)
    man = {
        "model": f"asq_{st.layer}",
        "top": top,
        "top_file": f"{top}.v",
        "sources": ["cs_requant_core.v", "cs_asq.v", f"{top}.v"],
        "input": {"lanes": hw.in_beat, "elem_bits": st.u_bits, "signed": False},
        "output": {"lanes": 1, "elem_bits": st.G + qw, "signed": False},
        "layers": [],
        "folding": {},
    }
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return out
