"""Helpers for the cocotb-backed tests: cached simulator builds and the cs_mvu unit bench."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np

from codesign.ir.golden import dense
from codesign.ir.graph import DenseLayer
from codesign.rtl.hexmem import write_hex
from codesign.rtl.layer_hw import layer_hw
from codesign.rtl.toolenv import HW_RTL
from codesign.verify.runner import run_bench

# One temporary folder per test session, never the source tree: the benches that share a
# Verilator build within the session reuse it (stamps catch any change).
CACHE = Path(tempfile.mkdtemp(prefix="codesign-test-sim-"))
atexit.register(shutil.rmtree, CACHE, True)


def run_unit(
    name: str,
    files: list[str],
    top: str,
    module: str,
    params: dict,
    config: dict,
    simulator: str = "verilator",
) -> dict:
    """Run hw/tb/<module>.py on hw/rtl/<files>; fail with the log path if any test fails."""
    res = run_bench(
        [HW_RTL / f for f in files],
        top,
        module,
        CACHE / name,
        simulator=simulator,
        parameters=params,
        config=config,
    )
    assert res["tests"] >= 1 and res["failed"] == 0, f"{module} failed, see {res['log']}"
    return res


def mvu_bench(
    name: str,
    layer: DenseLayer,
    pe: int,
    simd: int,
    in_beat: int,
    x: np.ndarray,
    simulator: str = "verilator",
    gap_p: float = 0.4,
    bp_p: float = 0.6,
    g: np.ndarray | None = None,
) -> dict:
    """Write the layer's tables, build cs_mvu with its parameters, stream x, compare outputs.

    `g`: per-vector factors of a dynamic-scale (dyn_in) layer, sent with every input beat.
    """
    d = CACHE / name
    d.mkdir(parents=True, exist_ok=True)
    hw = layer_hw(layer, pe, simd, in_beat)
    files = {k: str(d / f"{k}.hex") for k in ("weights", "bias", "mult", "shift")}
    write_hex(Path(files["weights"]), hw.weight_words(), hw.pe * hw.simd * hw.idx_w)
    write_hex(Path(files["bias"]), hw.fold_words(hw.bias, hw.acc_w), hw.pe * hw.acc_w)
    write_hex(Path(files["mult"]), hw.fold_words(hw.mult, hw.mult_w), hw.pe * hw.mult_w)
    write_hex(Path(files["shift"]), hw.fold_words(hw.shift, hw.shift_w), hw.pe * hw.shift_w)
    if hw.table is not None:
        files["table"] = str(d / "table.hex")
        write_hex(Path(files["table"]), hw.table_words(), hw.w_w)
    params = {
        k: (f'"{v}"' if isinstance(v, str) else v) for k, v in hw.verilog_params(files).items()
    }
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", dense(layer, x, None if g is None else {"g": g}))
    if g is not None:
        np.save(d / "g.npy", g)
    cfg = {
        "inputs": str(d / "x.npy"),
        "expected": str(d / "y.npy"),
        "IN_BEAT": in_beat,
        "IN_W": hw.in_w,
        "PE": pe,
        "OUT_W": hw.out_w,
        "OUT_LO": hw.out_lo,
        "NF": hw.nf,
        "SF": hw.sf,
        "gap_p": gap_p,
        "bp_p": bp_p,
        "g": None if g is None else str(d / "g.npy"),
    }
    lib = ["cs_requant_core.v", "cs_lut_decode.v", "cs_weight_rom.v", "cs_mvu.v"]
    res = run_unit(name, lib, "cs_mvu", "tb_mvu", params, cfg, simulator=simulator)
    res["hw"] = hw
    return res
