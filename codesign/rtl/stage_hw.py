"""Activation stages in the generated model top: stream units between cs_mvu layers.

An AdaLog pair (codesign.quant.adalog_ir) becomes two 1-cycle units on the stream between two
cs_mvu layers: producer cs_mvu (u, 8 bit) -> cs_log_encode (codes) -> cs_log_decode (X, F + 1
bit) -> consumer cs_mvu. An ASQ stage (codesign.quant.asq_int) becomes one cs_asq (a whole
vector in, adapter, divider; codesign.rtl.asq_hw) whose beats carry {g, codes}, read by the
consumer cs_mvu with G_W > 0 (dynamic requantisation). The layer's tap (what simulation
compares with the golden model's "<layer>" tensor) is the code stream. Other stage kinds are
refused with one error naming the layer, like IntGraph.require_plain.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from codesign.atomic import atomic_dir
from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec
from codesign.quant.adalog_rule import LogQuantSpec
from codesign.rtl import manifest as rtl_manifest
from codesign.rtl.hexmem import write_hex
from codesign.rtl.toolenv import HW_RTL

SUPPORTED = ("adalog_encode", "adalog_decode", "asq")


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
    extra_w: int = 0  # data bits above the lanes (cs_asq: the sample's g)
    files: dict[str, tuple[list[int], int]] = field(default_factory=dict)  # $readmemh tables:
    # parameter -> (words, width); generate/standalone write them and pass the paths
    interval: int = 0  # cycles per vector when the unit is the bottleneck (0: never)
    deps: tuple[str, ...] = ()  # other hw/rtl files the module instantiates

    @property
    def data_w(self) -> int:
        return self.lanes * self.out_w + self.extra_w

    def file_key(self, param: str) -> str:
        return f"{self.name}.{param}"

    def with_files(self, paths: dict) -> StageUnit:
        """The unit with its table parameters set to the written files (keys: file_key)."""
        table = {p: str(paths[self.file_key(p)]) for p in self.files}
        return replace(self, params={**self.params, **table})


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
        prev = graph.layers[i - 1].out_stage if i > 0 else None
        if lay.dyn_in and (prev is None or prev.kind != "asq"):
            kinds.append("dynamic requantisation without an ASQ stage before it")
        if kinds:
            raise CodesignError(
                f"backend 'rtl' does not support {', '.join(kinds)} on layer '{lay.name}' of "
                f"'{graph.name}' (supported activation stages: AdaLog, ASQ)"
            )
        enc = lay.out_stage
        if enc is not None and enc.kind == "asq":
            nxt = graph.layers[i + 1] if i + 1 < len(graph.layers) else None
            if nxt is None or not nxt.dyn_in or nxt.in_stage is not None:
                raise CodesignError(
                    f"layer '{lay.name}': ASQ stage without a dynamic-scale layer after it"
                )
        elif enc is not None:
            nxt = graph.layers[i + 1] if i + 1 < len(graph.layers) else None
            dec = None if nxt is None else nxt.in_stage
            if dec is None or dec.kind != "adalog_decode" or dec.spec != enc.spec:
                raise CodesignError(
                    f"layer '{lay.name}': AdaLog encoder without the matching decoder on the "
                    "next layer"
                )
        if lay.in_stage is not None and (prev is None or prev.kind != "adalog_encode"):
            raise CodesignError(f"layer '{lay.name}': AdaLog decoder without an encoder before it")


def stream_out_q(layer: DenseLayer) -> QuantSpec:
    """Format of the stream leaving a layer (codes when it has an encoder)."""
    return layer.out_stage.decoded_q if layer.out_stage is not None else layer.out_q


def matmul_in_q(layer: DenseLayer) -> QuantSpec:
    """Format the layer's cs_mvu multiplies (decoded values when it has a decoder)."""
    return layer.in_stage.decoded_q if layer.in_stage is not None else layer.in_q


def unit_file_name(unit: StageUnit, param: str) -> str:
    """mem/ file of a unit's $readmemh table, e.g. fc0_asq_w1.hex."""
    return f"{unit.name}_{param.lower().removesuffix('_file')}.hex"


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
        f"    wire [{unit.data_w - 1}:0] {dst}_data;",
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
    out = Path(out_dir).resolve()
    with atomic_dir(out) as tmp:
        _write_standalone(unit, out, tmp)
    return out


def _write_standalone(unit: StageUnit, out: Path, tmp: Path) -> None:
    """The files of `standalone`, written into tmp; tables are named where they will live."""
    libs = [*unit.deps, unit.lib]
    for lib in libs:
        shutil.copyfile(HW_RTL / lib, tmp / lib)
    if unit.files:
        (tmp / "mem").mkdir()
        paths = {}
        for p, (words, width) in unit.files.items():
            name = unit_file_name(unit, p)
            write_hex(tmp / "mem" / name, words, width)
            paths[unit.file_key(p)] = f"mem/{name}"  # relative: see hexmem.copy_tables
        unit = unit.with_files(paths)
    top = f"{unit.name}_top"
    iw, ow = unit.lanes * unit.in_w, unit.data_w
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
    (tmp / f"{top}.v").write_text("\n".join(v))
    stream = {"lanes": unit.lanes, "signed": False, "features": unit.lanes, "beats_per_vector": 1}
    out_stream = {**stream, "elem_bits": unit.out_w}
    if unit.extra_w:
        out_stream = {**stream, "lanes": 1, "features": 1, "elem_bits": unit.data_w}
    man = rtl_manifest.make(
        "stage",
        unit.name,
        top,
        [*libs, f"{top}.v"],
        input={**stream, "elem_bits": unit.in_w},
        output=out_stream,
        layers=[],
        folding={},
    )
    rtl_manifest.write(tmp, man)
