"""IntGraph -> one Verilog top per model (cs_mvu layers chained by valid/ready streams).

Writes `<out_dir>/<model>_top.v`, the hw/rtl library files it instantiates, the `$readmemh`
tables under `mem/` and `manifest.json` (ports, widths, folding, latency, ideal cycles). The
whole folder is written under a temporary name and renamed, so a failed run leaves the previous
RTL intact. CLI verb: `codesign rtl <model>` (main below).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from codesign.atomic import atomic_dir
from codesign.errors import ArgumentParser, CodesignError, at_least, fail, positive_number
from codesign.ir.graph import DenseLayer, IntGraph
from codesign.paths import FLOWS_DIR, build_root, source_of
from codesign.rtl import manifest as rtl_manifest
from codesign.rtl.asq_hw import asq_unit
from codesign.rtl.folding import (
    check_folding,
    divisors,
    load_folding,
    parse_folding,
    target_cycles,
)
from codesign.rtl.hexmem import write_hex
from codesign.rtl.layer_hw import LayerHW, layer_hw
from codesign.rtl.stage_hw import (
    StageUnit,
    check_rtl_stages,
    decoder_unit,
    encoder_unit,
    instance,
    stream_out_q,
    unit_file_name,
)
from codesign.rtl.toolenv import HW_RTL, LIBRARY_FILES

MAX_IN_BEAT_BITS = 512  # widest default input port (a common AXI-Stream data width)
LAYER_OVERHEAD_CYCLES = 2  # cs_mvu: requantise/output register + the next bank's full flag


def top_name(model: str) -> str:
    """A Verilog identifier for the model's top module."""
    ident = re.sub(r"\W", "_", model)
    if not re.match(r"[A-Za-z_]", ident):
        ident = "m_" + ident
    return f"{ident}_top"


def default_in_beat(n: int, bits: int) -> int:
    """Largest divisor of the input features whose beat is at most 512 bits wide."""
    return (
        max(d for d in divisors(n) if d * bits <= MAX_IN_BEAT_BITS)
        if (bits <= MAX_IN_BEAT_BITS)
        else 1
    )


def plan(
    graph: IntGraph,
    folding: dict[str, tuple[int, int]],
    in_beat: int | None = None,
    shift_mode: bool = True,
) -> list[LayerHW]:
    """Hardware form of every layer, checking the chain (features and formats must match)."""
    if not graph.layers:
        raise CodesignError(f"graph '{graph.name}' has no layers")
    check_rtl_stages(graph)  # AdaLog / ASQ stages become stream units (codesign/rtl/stage_hw.py)
    check_folding(graph, folding)
    first = graph.layers[0]
    if first.in_q.bits != graph.input_q.bits or first.in_q.signed != graph.input_q.signed:
        raise CodesignError(f"layer '{first.name}': input format differs from the graph input")
    if in_beat is not None and in_beat < 1:
        raise CodesignError(f"--in-beat must be at least 1 input element per beat, got {in_beat}")
    beat = in_beat or default_in_beat(first.in_features, first.in_q.bits)
    hws = []
    prev = None
    for lay in graph.layers:
        if prev is not None:
            if lay.in_features != prev.out_features:
                raise CodesignError(
                    f"layer '{lay.name}': {lay.in_features} inputs but '{prev.name}' gives "
                    f"{prev.out_features}"
                )
            pq = stream_out_q(prev)
            if (lay.in_q.bits, lay.in_q.signed) != (pq.bits, pq.signed):
                raise CodesignError(
                    f"layer '{lay.name}': input format differs from the output of '{prev.name}'"
                )
            beat = folding[prev.name][0]
        pe, simd = folding[lay.name]
        hws.append(layer_hw(lay, pe, simd, beat, shift_mode=shift_mode))
        prev = lay
    return hws


def _vparam(v: object) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


def out_unit(layer: DenseLayer, lanes: int, fold: tuple[int, int] = (1, 1)) -> StageUnit | None:
    """cs_log_encode or cs_asq after the layer's cs_mvu (lanes = the layer's PE; fold = its
    (NF, SF), the pace at which it delivers a vector's beats)."""
    if layer.out_stage is None:
        return None
    if layer.out_stage.kind == "asq":
        return asq_unit(layer.out_stage, lanes, f"{layer.name}_asq", fold)
    return encoder_unit(layer.out_stage.spec, lanes, f"{layer.name}_enc")


def in_unit(layer: DenseLayer, lanes: int) -> StageUnit | None:
    """cs_log_decode before the layer's cs_mvu (lanes = the layer's input beat)."""
    if layer.in_stage is None:
        return None
    return decoder_unit(layer.in_stage.spec, lanes, f"{layer.name}_dec")


def _units(graph: IntGraph, hws: list[LayerHW]) -> list[tuple[StageUnit | None, StageUnit | None]]:
    """(decoder before, encoder after) each layer's cs_mvu; None where the layer has none."""
    return [
        (in_unit(lay, h.in_beat), out_unit(lay, h.pe, (h.nf, h.sf)))
        for lay, h in zip(graph.layers, hws, strict=True)
    ]


def _top_verilog(top: str, graph: IntGraph, hws: list[LayerHW], files: list[dict]) -> str:
    h0, hl = hws[0], hws[-1]
    units = _units(graph, hws)
    in_bits = h0.in_beat * h0.in_w
    out_bits = hl.pe * hl.out_w
    lines = [
        "`timescale 1ns / 1ps",
        f"// {top} -- generated by codesign.rtl.generate from IntGraph '{graph.name}'.",
        "// Do not edit: regenerate with `codesign rtl <model>`.",
        "//",
        f"// {len(hws)} cs_mvu layers chained by valid/ready streams:",
    ]
    for h, (dec, enc) in zip(hws, units, strict=True):
        lines.append(
            f"//   {h.name}: {h.n} -> {h.m}, PE {h.pe}, SIMD {h.simd}, {h.wmode} weights "
            f"({h.idx_w} bit), acc {h.acc_w} bit, {h.cycles} cycles/vector"
        )
        for u, what in ((dec, "before"), (enc, "after")):
            if u is not None:
                lines.append(
                    f"//     {u.module} {what} it: {u.lanes} lanes, {u.in_w} -> {u.out_w} bit"
                )
    lat = h0.n // h0.in_beat + sum(h.cycles + LAYER_OVERHEAD_CYCLES for h in hws)
    lat += sum(u.latency for pair in units for u in pair if u is not None)
    lines += [
        f"// Input: {h0.in_beat} x {h0.in_w}-bit lanes per beat; element k of a vector is lane",
        f"//   k % {h0.in_beat} of beat k / {h0.in_beat}. Output: {hl.pe} x {hl.out_w}-bit lanes;",
        f"//   element o is lane o % {hl.pe} of beat o / {hl.pe}. Same rule on every tap.",
        "// Taps: t_<layer>_valid/_ready/_data are each layer's output stream (a beat moves when",
        "//   valid & ready), for a testbench to read hierarchically.",
        f"// Latency without stalls: {lat} cycles from the first input beat to the last output",
        "//   beat; throughput one vector per max(layer cycles) cycles.",
        "// Handshake: AXI-Stream style valid/ready; reset synchronous, active low.",
        f"module {top} (",
        "    input  wire clk,",
        "    input  wire rst_n,",
        "    input  wire in_valid,",
        "    output wire in_ready,",
        f"    input  wire [{in_bits - 1}:0] in_data,",
        "    output wire out_valid,",
        "    input  wire out_ready,",
        f"    output wire [{out_bits - 1}:0] out_data",
        ");",
    ]
    for h, (_, enc) in zip(hws, units, strict=True):
        w = f"t_{h.name}" if enc is None else f"t_{h.name}_pre"  # cs_mvu output stream
        lines += [
            f"    wire {w}_valid;",
            f"    wire {w}_ready;",
            f"    wire [{h.pe * h.out_w - 1}:0] {w}_data;",
        ]
    prev_v, prev_r, prev_d = "in_valid", "in_ready", "in_data"
    for h, f, (dec, enc) in zip(hws, files, units, strict=True):
        if dec is not None:
            d = f"d_{h.name}"
            lines += instance(dec.with_files(f), (prev_v, prev_r, prev_d), d)
            prev_v, prev_r, prev_d = f"{d}_valid", f"{d}_ready", f"{d}_data"
        mo = f"t_{h.name}" if enc is None else f"t_{h.name}_pre"
        params = h.verilog_params(f)
        plines = [f"        .{k}({_vparam(v)})" for k, v in params.items()]
        lines += [
            "",
            "    cs_mvu #(",
            ",\n".join(plines),
            f"    ) u_{h.name} (",
            "        .clk(clk),",
            "        .rst_n(rst_n),",
            f"        .in_valid({prev_v}),",
            f"        .in_ready({prev_r}),",
            f"        .in_data({prev_d}),",
            f"        .out_valid({mo}_valid),",
            f"        .out_ready({mo}_ready),",
            f"        .out_data({mo}_data)",
            "    );",
        ]
        if enc is not None:
            src = (f"{mo}_valid", f"{mo}_ready", f"{mo}_data")
            lines += instance(enc.with_files(f), src, f"t_{h.name}")
        prev_v, prev_r, prev_d = f"t_{h.name}_valid", f"t_{h.name}_ready", f"t_{h.name}_data"
    lines += [
        "",
        f"    assign out_valid = {prev_v};",
        f"    assign {prev_r} = out_ready;",
        f"    assign out_data = {prev_d};",
        "endmodule",
        "",
    ]
    return "\n".join(lines)


def _stream(prefix: str, lanes: int, bits: int, signed: bool, features: int) -> dict:
    return {
        "valid": f"{prefix}_valid",
        "ready": f"{prefix}_ready",
        "data": f"{prefix}_data",
        "lanes": lanes,
        "elem_bits": bits,
        "signed": signed,
        "features": features,
        "beats_per_vector": features // lanes,
    }


def _libraries(units: list[tuple[StageUnit | None, StageUnit | None]]) -> list[str]:
    extra = {lib for pair in units for u in pair if u is not None for lib in (*u.deps, u.lib)}
    extra -= set(LIBRARY_FILES)
    return list(LIBRARY_FILES) + sorted(extra)


def manifest_for(
    graph: IntGraph, hws: list[LayerHW], top: str, files: list[dict], out_dir: Path
) -> dict:
    """The machine-readable description a testbench, synthesis or a report reads."""
    h0, hl = hws[0], hws[-1]
    fill = in_beat_count(hws)
    units = _units(graph, hws)
    layers = []
    for h, f, (dec, enc) in zip(hws, files, units, strict=True):
        tap_w, tap_signed = (h.out_w, h.out_signed) if enc is None else (enc.out_w, False)
        layers.append(
            {
                "name": h.name,
                "in_features": h.n,
                "out_features": h.m,
                "pe": h.pe,
                "simd": h.simd,
                "in_beat": h.in_beat,
                "in_bits": h.in_w,
                "in_signed": h.in_signed,
                "weight_mode": h.wmode,
                "weight_store_bits": h.idx_w,
                "weight_decoded_bits": h.w_w,
                "acc_bits": h.acc_bits,
                "acc_width": h.acc_w,
                "mult_bits": h.mult_w,
                "shift_bits": h.shift_w,
                "max_shift": h.max_shift,
                "out_bits": h.out_w,
                "out_signed": h.out_signed,
                "clamp": [h.out_lo, h.out_hi],
                "rounding": h.rounding,
                "macs": h.n * h.m,
                "ideal_cycles": h.cycles,
                "files": {k: Path(v).name for k, v in f.items()},
                "tap": _stream(f"t_{h.name}", h.pe, tap_w, tap_signed, h.m),
                "stages": {
                    k: {
                        "module": u.module,
                        "lanes": u.lanes,
                        "in_bits": u.in_w,
                        "out_bits": u.out_w,
                    }
                    for k, u in (("in", dec), ("out", enc))
                    if u is not None
                },
            }
        )
    ideal = sum(h.cycles for h in hws)
    return rtl_manifest.make(
        "mvu",
        graph.name,
        top,
        _libraries(units) + [f"{top}.v"],
        clock="clk",
        reset={"name": "rst_n", "active_low": True, "synchronous": True},
        input=_stream("in", h0.in_beat, h0.in_w, h0.in_signed, h0.n),
        output=_stream("out", hl.pe, hl.out_w, hl.out_signed, hl.m),
        layers=layers,
        folding={h.name: {"pe": h.pe, "simd": h.simd} for h in hws},
        ideal_cycles_per_inference=ideal,
        latency_cycles=fill
        + sum(h.cycles + LAYER_OVERHEAD_CYCLES for h in hws)
        + sum(u.latency for pair in units for u in pair if u is not None),
        ideal_interval_cycles=max(
            [fill] + [h.cycles for h in hws] + [u.interval for p in units for u in p if u]
        ),
        latency_model="input beats + sum over layers (NF*SF + 2) + per stage unit: 1 "
        "(AdaLog) or its schedule after the last input beat (ASQ, cs_asq header)",
    )


def in_beat_count(hws: list[LayerHW]) -> int:
    """Input beats per vector: the input stream's own interval."""
    return hws[0].n // hws[0].in_beat


def _bottleneck(graph: IntGraph, hws: list[LayerHW], max_interval: int) -> str:
    """Every stage whose own interval is over the target, named."""
    over, fill = [], in_beat_count(hws)
    if fill > max_interval:
        over.append(f"the input stream needs {fill} beats per vector (raise --in-beat)")
    over += [f"layer '{h.name}' needs {h.cycles} cycles" for h in hws if h.cycles > max_interval]
    for pair in _units(graph, hws):
        over += [
            f"stage unit '{u.name}' ({u.module}) needs {u.interval} cycles"
            for u in pair
            if u is not None and u.interval > max_interval
        ]
    return "; ".join(over) or "no single stage (report this)"


def generate(
    graph: IntGraph,
    folding: dict[str, tuple[int, int]],
    out_dir: str | Path,
    in_beat: int | None = None,
    shift_mode: bool = True,
    lint: bool = False,
    source: dict | None = None,
    max_interval: int | None = None,
) -> dict:
    """Write the model's RTL folder and return its manifest (also in manifest.json). lint:
    verilator --lint-only -Wall before the folder replaces the old one (which a failure keeps).
    max_interval: cycles per inference the design must sustain (--target-fps), else an error
    naming what limits it, and the old folder stays."""
    out_dir = Path(out_dir).resolve()
    hws = plan(graph, folding, in_beat=in_beat, shift_mode=shift_mode)
    top = top_name(graph.name)
    with atomic_dir(out_dir) as tmp:
        (tmp / "mem").mkdir()
        files = []
        for h, pair in zip(hws, _units(graph, hws), strict=True):
            mem = Path("mem")  # relative to the top: the folder can move (hexmem.copy_tables)
            f = {
                "bias": mem / f"{h.name}_bias.hex",
                "mult": mem / f"{h.name}_mult.hex",
                "shift": mem / f"{h.name}_shift.hex",
                "weights": mem / f"{h.name}_w.hex",
            }
            write_hex(tmp / "mem" / f["weights"].name, h.weight_words(), h.pe * h.simd * h.idx_w)
            write_hex(tmp / "mem" / f["bias"].name, h.fold_words(h.bias, h.acc_w), h.pe * h.acc_w)
            write_hex(tmp / "mem" / f["mult"].name, h.fold_words(h.mult, h.mult_w), h.pe * h.mult_w)
            write_hex(
                tmp / "mem" / f["shift"].name, h.fold_words(h.shift, h.shift_w), h.pe * h.shift_w
            )
            if h.table is not None:
                f["table"] = mem / f"{h.name}_table.hex"
                write_hex(tmp / "mem" / f["table"].name, h.table_words(), h.w_w)
            for u in (u for u in pair if u is not None):  # stage units' $readmemh tables
                for p, (words, width) in u.files.items():
                    f[u.file_key(p)] = mem / unit_file_name(u, p)
                    write_hex(tmp / "mem" / unit_file_name(u, p), words, width)
            files.append({k: v.as_posix() for k, v in f.items()})
        for lib in _libraries(_units(graph, hws)):
            shutil.copyfile(HW_RTL / lib, tmp / lib)
        (tmp / f"{top}.v").write_text(_top_verilog(top, graph, hws, files))
        manifest = manifest_for(graph, hws, top, files, out_dir)
        if max_interval is not None and manifest["ideal_interval_cycles"] > max_interval:
            raise CodesignError(
                f"{top} starts an inference every {manifest['ideal_interval_cycles']} cycles, over "
                f"the {max_interval} the target allows: {_bottleneck(graph, hws, max_interval)}"
            )
        if source is not None:
            manifest["source"] = source
        rtl_manifest.write(tmp, manifest)
        if lint:
            from codesign.rtl.lint import require_clean

            require_clean(tmp, manifest, out_dir)
    return manifest


def model_graph(model: str, build_dir: str | Path = "build") -> IntGraph:
    """The model's IntGraph from build/<model>/onnx/model.onnx (loader imported lazily); an
    imported model is re-read with its import settings (e.g. --input-scale)."""
    from codesign import importer, paths
    from codesign.ir.chain import load_int_graph

    if Path(build_dir).resolve() == paths.build_root().resolve() and importer.is_imported(model):
        return importer.chain_graph(model)

    onnx_path = Path(build_dir) / model / "onnx" / "model.onnx"
    if not onnx_path.is_file():
        from codesign.models import zoo

        if model not in zoo.ZOO:  # neither ours nor imported: say so, not "export it"
            raise CodesignError(
                f"unknown model '{model}' (known: {', '.join(sorted(zoo.ZOO))}, or a name "
                "given to `codesign import`)"
            )
        raise CodesignError(f"{onnx_path} not found (export the model '{model}' first)")
    return load_int_graph(onnx_path, name=model)


def main(argv: list[str]) -> int:
    """`codesign rtl <model>`: generate build/<model>/rtl from the exported model."""
    ap = ArgumentParser(prog="codesign rtl", description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("--build-dir", default=str(build_root()))
    ap.add_argument("--flows-dir", default=str(FLOWS_DIR))
    ap.add_argument("--in-beat", type=at_least(1), default=None, help="input elements per beat")
    ap.add_argument("--no-shift", action="store_true", help="never use the shift-only path")
    ap.add_argument("--no-lint", action="store_true", help="skip verilator --lint-only -Wall")
    ap.add_argument(
        "--folding", help="layer=PExSIMD,... over the flow file's rtl.folding (e.g. fc0=1x2)"
    )
    ap.add_argument(
        "--target-fps",
        type=positive_number,
        help="fold every layer (as FINN's SetFolding) to sustain this many inferences per second",
    )
    ap.add_argument(
        "--clock-mhz", type=positive_number, default=None, help="clock of --target-fps (100)"
    )
    a = ap.parse_args(argv)
    if a.clock_mhz is not None and a.target_fps is None:
        return fail(CodesignError("--clock-mhz sets the clock of --target-fps: give both"))
    a.clock_mhz = 100.0 if a.clock_mhz is None else a.clock_mhz
    try:
        over = parse_folding(a.folding) if a.folding is not None else None
        cycles = None if a.target_fps is None else target_cycles(a.target_fps, a.clock_mhz)
        graph = model_graph(a.model, a.build_dir)
        folding = load_folding(Path(a.flows_dir) / f"{a.model}.yaml", graph, over, cycles)
        model_dir = Path(a.build_dir) / a.model
        out = model_dir / "rtl"
        man = generate(
            graph,
            folding,
            out,
            in_beat=a.in_beat,
            shift_mode=not a.no_shift,
            lint=not a.no_lint,
            source=source_of(model_dir / "onnx" / "model.onnx", model_dir),
            max_interval=cycles,
        )
    except CodesignError as e:
        return fail(e)
    print(f"wrote {out}/ (top {man['top']}, {len(man['layers'])} layers)")
    for lay in man["layers"]:
        print(
            f"  {lay['name']:>6}: {lay['in_features']:>4} -> {lay['out_features']:<4} "
            f"PE {lay['pe']:>3} SIMD {lay['simd']:>3}  {lay['weight_mode']:>5} weights  "
            f"acc {lay['acc_width']} bit  {lay['ideal_cycles']} cycles"
        )
    print(
        f"  ideal {man['ideal_cycles_per_inference']} cycles/inference, modelled latency "
        f"{man['latency_cycles']}, interval {man['ideal_interval_cycles']}"
    )
    if cycles is not None:
        fps = a.clock_mhz * 1e6 / man["ideal_interval_cycles"]
        print(
            f"  target {a.target_fps:g} inferences/s at {a.clock_mhz:g} MHz ({cycles} cycles): "
            f"{fps:,.0f}/s at interval {man['ideal_interval_cycles']}"
        )
    return 0
