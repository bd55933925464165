"""Activation stages in the generated model top: elementwise stream units between cs_mvu layers.

An AdaLog pair (codesign.quant.adalog_ir) becomes two 1-cycle units on the stream between two
cs_mvu layers: producer cs_mvu (u, 8 bit) -> cs_log_encode (codes) -> cs_log_decode (X, F + 1
bit) -> consumer cs_mvu. The layer's tap (what simulation compares with the golden model's
"<layer>" tensor) is the code stream. Other stage kinds (and dynamic requantisation) are refused
with one error naming the layer, like IntGraph.require_plain.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec
from codesign.quant.adalog_rule import LogQuantSpec
from codesign.rtl.toolenv import HW_RTL

SUPPORTED = ("adalog_encode", "adalog_decode")


class Literal(str):
    """A Verilog literal written as is (not quoted like a string parameter)."""


def vector_literal(values: list[int], width: int) -> Literal:
    """Packed table parameter: entry i in bits [i*width +: width], as a sized hex literal."""
    word = 0
    for i, v in enumerate(values):
        if not 0 <= int(v) < 1 << width:
            raise CodesignError(f"table entry {v} does not fit {width} bits")
        word |= int(v) << (i * width)
    return Literal(f"{len(values) * width}'h{word:x}")


@dataclass
class StageUnit:
    """One stream unit: Verilog module, widths and parameters (tables included)."""

    name: str  # instance suffix, e.g. "fc0_enc"
    module: str
    lib: str  # hw/rtl file to copy next to the top
    lanes: int
    in_w: int
    out_w: int
    params: dict[str, object] = field(default_factory=dict)
    latency: int = 1  # output register


def encoder_unit(
    spec: LogQuantSpec, lanes: int, name: str, thresholds: list[int] | None = None
) -> StageUnit:
    """cs_log_encode for `spec` (`thresholds` overrides the table, e.g. to plant a fault)."""
    th = [int(t) for t in spec.thresholds] if thresholds is None else thresholds
    return StageUnit(
        name=name,
        module="cs_log_encode",
        lib="cs_log_encode.v",
        lanes=lanes,
        in_w=spec.in_bits,
        out_w=spec.bits,
        params={
            "LANES": lanes,
            "IN_W": spec.in_bits,
            "CODE_W": spec.bits,
            "TH": vector_literal(th, spec.threshold_bits),
        },
    )


def decoder_unit(
    spec: LogQuantSpec, lanes: int, name: str, lut: list[int] | None = None
) -> StageUnit:
    """cs_log_decode for `spec` (`lut` overrides the table, e.g. to plant a fault)."""
    table = [int(v) for v in spec.lut] if lut is None else lut
    return StageUnit(
        name=name,
        module="cs_log_decode",
        lib="cs_log_decode.v",
        lanes=lanes,
        in_w=spec.bits,
        out_w=spec.out_bits,
        params={
            "LANES": lanes,
            "CODE_W": spec.bits,
            "Q": spec.q,
            "R": spec.r,
            "X_W": spec.out_bits,
            "LUT": vector_literal(table, spec.out_bits),
        },
    )


def check_rtl_stages(graph: IntGraph) -> None:
    """Raise CodesignError for a stage the generated top cannot build (naming the layer)."""
    for i, lay in enumerate(graph.layers):
        kinds = [s.kind for s in lay.stages if s.kind not in SUPPORTED]
        kinds += ["dynamic requantisation"] if lay.dyn_in else []
        if kinds:
            raise CodesignError(
                f"backend 'rtl' does not support {', '.join(kinds)} on layer '{lay.name}' of "
                f"'{graph.name}' (supported activation stages: AdaLog)"
            )
        enc = lay.out_stage
        if enc is not None:
            nxt = graph.layers[i + 1] if i + 1 < len(graph.layers) else None
            dec = None if nxt is None else nxt.in_stage
            if dec is None or dec.kind != "adalog_decode" or dec.spec != enc.spec:
                raise CodesignError(
                    f"layer '{lay.name}': AdaLog encoder without the matching decoder on the "
                    "next layer"
                )
        if lay.in_stage is not None and (i == 0 or graph.layers[i - 1].out_stage is None):
            raise CodesignError(f"layer '{lay.name}': AdaLog decoder without an encoder before it")


def stream_out_q(layer: DenseLayer) -> QuantSpec:
    """Format of the stream leaving a layer (codes when it has an encoder)."""
    return layer.out_stage.decoded_q if layer.out_stage is not None else layer.out_q


def matmul_in_q(layer: DenseLayer) -> QuantSpec:
    """Format the layer's cs_mvu multiplies (decoded values when it has a decoder)."""
    return layer.in_stage.decoded_q if layer.in_stage is not None else layer.in_q


def out_unit(layer: DenseLayer, lanes: int) -> StageUnit | None:
    """cs_log_encode after the layer's cs_mvu (lanes = the layer's PE)."""
    if layer.out_stage is None:
        return None
    return encoder_unit(layer.out_stage.spec, lanes, f"{layer.name}_enc")


def in_unit(layer: DenseLayer, lanes: int) -> StageUnit | None:
    """cs_log_decode before the layer's cs_mvu (lanes = the layer's input beat)."""
    if layer.in_stage is None:
        return None
    return decoder_unit(layer.in_stage.spec, lanes, f"{layer.name}_dec")


def _vparam(v: object) -> str:
    if isinstance(v, Literal):
        return str(v)
    return f'"{v}"' if isinstance(v, str) else str(v)


def instance(unit: StageUnit, src: tuple[str, str, str], dst: str) -> list[str]:
    """Verilog lines: wires `dst`_valid/_ready/_data and the unit fed from the `src` stream."""
    plines = [f"        .{k}({_vparam(v)})" for k, v in unit.params.items()]
    sv, sr, sd = src
    return [
        "",
        f"    wire {dst}_valid;",
        f"    wire {dst}_ready;",
        f"    wire [{unit.lanes * unit.out_w - 1}:0] {dst}_data;",
        f"    {unit.module} #(",
        ",\n".join(plines),
        f"    ) u_{unit.name} (",
        "        .clk(clk),",
        "        .rst_n(rst_n),",
        f"        .in_valid({sv}),",
        f"        .in_ready({sr}),",
        f"        .in_data({sd}),",
        f"        .out_valid({dst}_valid),",
        f"        .out_ready({dst}_ready),",
        f"        .out_data({dst}_data)",
        "    );",
    ]


def standalone(unit: StageUnit, out_dir: str | Path) -> Path:
    """A folder with the unit and a parameter-free top `<name>_top` (same ports) plus a
    manifest.json, so lint_model, codesign.rtl.synth.synthesize and a cocotb bench take it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HW_RTL / unit.lib, out / unit.lib)
    top = f"{unit.name}_top"
    iw, ow = unit.lanes * unit.in_w, unit.lanes * unit.out_w
    v = [
        "`timescale 1ns / 1ps",
        f"// {top} -- {unit.module} with fixed parameters (generated by codesign.rtl.stage_hw).",
        f"module {top} (",
        "    input  wire clk,",
        "    input  wire rst_n,",
        "    input  wire in_valid,",
        "    output wire in_ready,",
        f"    input  wire [{iw - 1}:0] in_data,",
        "    output wire out_valid,",
        "    input  wire out_ready,",
        f"    output wire [{ow - 1}:0] out_data",
        ");",
        *instance(unit, ("in_valid", "in_ready", "in_data"), "o"),
        "    assign out_valid = o_valid;",
        "    assign o_ready = out_ready;",
        "    assign out_data = o_data;",
        "endmodule",
        "",
    ]
    (out / f"{top}.v").write_text("\n".join(v))
    stream = {"lanes": unit.lanes, "signed": False, "features": unit.lanes, "beats_per_vector": 1}
    man = {
        "model": unit.name,
        "top": top,
        "top_file": f"{top}.v",
        "sources": [unit.lib, f"{top}.v"],
        "input": {**stream, "elem_bits": unit.in_w},
        "output": {**stream, "elem_bits": unit.out_w},
        "layers": [],
        "folding": {},
    }
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return out
