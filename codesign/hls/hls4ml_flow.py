"""`codesign hls4ml <model>`: QONNX export -> hls4ml (Vitis backend) -> C-simulation, checked
layer by layer against the golden model.

Path (../shared/TOOLCHAIN.md): LutQuantToQuant -> cleanup -> ConvertToChannelsLastAndClean ->
GemmToMatMul -> cleanup -> SplitWeightScales (integer form from the IntGraph) ->
config_from_onnx_model(granularity='name') with every precision derived from the IntGraph ->
convert_from_onnx_model -> compile (g++) -> trace on the test split -> compare_layers.
The HLS project is written to build/<model>/hls4ml/<io_type>/. Vendor synthesis runs only where
`vitis-run` is on PATH; otherwise the report names the skip and the exact command.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from codesign import paths
from codesign.atomic import atomic_dir, write_json
from codesign.errors import ArgumentParser, CodesignError
from codesign.hls import common
from codesign.hls.hls4ml_graph import SplitWeightScales
from codesign.hls.precision import act_type, layer_types
from codesign.hls.support import check_ops
from codesign.ir.compare import compare_layers, describe
from codesign.ir.graph import IntGraph

IO_TYPES = {"parallel": "io_parallel", "stream": "io_stream"}
VENDOR_TOOL = "vitis-run"  # what hls4ml's Vitis backend calls for build()
BUILD_OPTS = (
    "array set opt {\n    reset 1\n    csim 0\n    synth 1\n    cosim 0\n    validation 0\n"
    "    export 0\n    vsynth 1\n    fifo_opt 0\n}\n"
)


def hls4ml_qonnx(model: str, graph: IntGraph):
    """The QONNX graph hls4ml gets: plain QONNX, channels-last, MatMul, integer form."""
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    mw = common.plain_qonnx(model)
    check_ops(mw.model, "hls4ml")
    mw = mw.transform(ConvertToChannelsLastAndClean())
    mw = cleanup_model(mw.transform(GemmToMatMul()))
    return mw.transform(SplitWeightScales(graph))


def hls_config(mw, graph: IntGraph) -> dict:
    """hls4ml name-granularity configuration with every precision taken from the IntGraph."""
    import hls4ml

    cfg = hls4ml.utils.config.config_from_onnx_model(
        mw, granularity="name", backend="Vitis", default_precision="fixed<16,6>"
    )
    layers = cfg["LayerName"]
    for entry in layers.values():
        entry["Trace"] = True
    layers[mw.graph.input[0].name]["Precision"] = {"result": act_type(graph.input_q)}
    for lay in graph.layers:
        t = layer_types(lay)
        layers[lay.name]["Precision"] = {"weight": t.weight, "accum": t.accum, "result": t.accum}
        # A set result type keeps hls4ml from fusing bias and scale (it would form s * b in
        # float32, which is not exact); each step then stays exact on its own.
        layers[f"{lay.name}_bias"]["Precision"] = {"bias": t.bias, "result": t.accum}
        layers[f"{lay.name}_scale"]["Precision"] = {"scale": t.scale, "result": t.scaled}
        if f"{lay.name}_relu" in layers:  # exact here; the quantizer after it rounds
            layers[f"{lay.name}_relu"]["Precision"] = {"result": t.scaled}
    return cfg


def _type_str(precision) -> str:
    """'fixed<W,I>' / 'ufixed<W,I>' of an hls4ml precision (rounding/saturation dropped)."""
    s = str(precision)
    return s.split(",")[0] + "," + s.split(",")[1].rstrip(">") + ">" if "," in s else s


def check_types(hm, graph: IntGraph) -> dict:
    """Every hls4ml type on the data path equals the derived one (hls4ml passes may not widen
    or narrow them); returns {layer: {type_name: precision}} for the report."""
    by_name = {layer.name: layer for layer in hm.get_layers()}
    used = {
        name: {k: str(v.precision) for k, v in layer.types.items()}
        for name, layer in by_name.items()
    }
    for lay in graph.layers:
        t = layer_types(lay)
        want = {
            f"Dense_{lay.name}": {"weight_t": t.weight, "accum_t": t.accum, "result_t": t.accum},
            f"bn_{lay.name}_bias": {"bias_t": t.bias, "result_t": t.accum},
            f"bn_{lay.name}_scale": {"scale_t": t.scale, "result_t": t.scaled},
        }
        for lname, types in want.items():
            if lname not in by_name:
                raise CodesignError(f"hls4ml model has no layer '{lname}' (layer '{lay.name}')")
            for key, expect in types.items():
                got = _type_str(by_name[lname].types[key].precision)
                if got != expect:
                    raise CodesignError(
                        f"hls4ml layer '{lname}' {key} is {got}, derived {expect}: not exact"
                    )
    return used


def layer_outputs(hm, graph: IntGraph) -> dict[str, str]:
    """IntGraph layer -> the hls4ml layer whose output is that layer's quantized output: the
    last layer before the next Dense (or the model output)."""
    names = [layer.name for layer in hm.get_layers()]
    dense = [names.index(f"Dense_{lay.name}") for lay in graph.layers]
    ends = [*dense[1:], len(names)]
    out = {"input": names[dense[0] - 1]}
    for lay, end in zip(graph.layers, ends, strict=True):
        out[lay.name] = names[end - 1]
    return out


def vendor_synthesis(project: Path) -> dict:
    """Run vendor HLS synthesis where the tool exists; otherwise a named skip + the command."""
    import subprocess

    command = f"cd {project} && {VENDOR_TOOL} --tcl build_prj.tcl --mode hls"
    (project / "build_opt.tcl").write_text(BUILD_OPTS)
    if shutil.which(VENDOR_TOOL) is None:
        return {
            "status": "skipped",
            "reason": f"{VENDOR_TOOL} (Vitis HLS) not on PATH",
            "command": command,
        }
    t0 = time.time()
    proc = subprocess.run(command, shell=True, capture_output=True, text=True)
    return {
        "status": "ok" if proc.returncode == 0 else "failed",
        "returncode": proc.returncode,
        "seconds": round(time.time() - t0, 1),
        "command": command,
        "report_dir": str(project / "myproject_prj"),
    }


def run_io(model: str, io_type: str, graph: IntGraph, golden: dict, synth: bool = True) -> dict:
    """Convert, compile, trace the test split and compare; the project lands in
    build/<model>/hls4ml/<io_type>/ (replaced as a whole only on success)."""
    import hls4ml

    mw = hls4ml_qonnx(model, graph)
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls_config(mw, graph)
    out_dir = paths.model_dir(model) / "hls4ml" / io_type
    x_real = golden["input"].astype(np.float64) * 2.0**graph.input_q.scale_exp
    with atomic_dir(out_dir) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet):
            hm = hls4ml.converters.convert_from_onnx_model(
                mw, hls_config=cfg, io_type=io_type, backend="Vitis", output_dir=str(tmp)
            )
        types = check_types(hm, graph)
        timing = {}
        compile_fn = hm._compile

        def timed_compile() -> None:
            t0 = time.time()
            compile_fn()
            timing["compile_seconds"] = round(time.time() - t0, 2)

        hm._compile = timed_compile  # trace() recompiles with tracing on; time that g++ run
        t0 = time.time()
        with contextlib.redirect_stdout(quiet):
            _, trace = hm.trace(np.ascontiguousarray(x_real))
        sim_s = time.time() - t0 - timing["compile_seconds"]
        outs = layer_outputs(hm, graph)
        cand = {}
        for lname, hname in outs.items():
            q = graph.input_q if lname == "input" else graph.layer(lname).out_q
            v = np.asarray(trace[hname], dtype=np.float64).reshape(len(x_real), -1)
            ints = v / 2.0**q.scale_exp
            cand[lname] = np.round(ints).astype(np.int64)
            if not np.array_equal(ints, np.round(ints)):
                off = np.argwhere(ints != np.round(ints))[0]
                raise CodesignError(
                    f"hls4ml layer '{hname}' ({lname}) sample {off[0]} index {off[1]}: value "
                    f"{v[tuple(off)]} is off the 2**{q.scale_exp} grid"
                )
        order = ["input", *[lay.name for lay in graph.layers]]
        cmp = compare_layers(golden, cand, order, "golden", "hls4ml")
        vendor = vendor_synthesis(Path(tmp)) if synth else {"status": "not requested"}
    if "command" in vendor:
        vendor["command"] = vendor["command"].replace(str(tmp), str(out_dir))
    return {
        "io_type": io_type,
        "samples": int(len(x_real)),
        "mismatches": cmp["mismatches"],
        "layer_mismatches": cmp["layers"],
        "first_mismatch": cmp["first_mismatch"],
        "compile_seconds": timing["compile_seconds"],
        "csim_seconds": round(sim_s, 3),
        "accuracy": float((cand[graph.layers[-1].name].argmax(1) == golden["labels"]).mean())
        if "labels" in golden
        else None,
        "trace_layers": outs,
        "precisions": types,
        "project_dir": str(out_dir),
        "vendor_synthesis": vendor,
        "hls4ml_version": hls4ml.__version__,
        "backend": "Vitis",
    }


def run(model: str, io_types: list[str], synth: bool = True) -> dict:
    """Run the flow for each io type and merge into build/<model>/reports/hls4ml.json."""
    graph = common.int_graph(model)
    golden = common.golden_tensors(model)
    report_path = paths.reports_dir(model) / "hls4ml.json"
    runs = common.read_json(report_path).get("io", {})
    for io_type in io_types:
        runs[io_type] = run_io(model, io_type, graph, golden, synth)
    firsts = [r["first_mismatch"] for r in runs.values() if r["first_mismatch"]]
    report = {
        "model": model,
        "samples": max(r["samples"] for r in runs.values()),
        "mismatches": sum(r["mismatches"] for r in runs.values()),
        "first_mismatch": firsts[0] if firsts else None,
        "compile_seconds": {k: r["compile_seconds"] for k, r in runs.items()},
        "io": runs,
    }
    write_json(report_path, report)
    return report


def main(argv: list[str]) -> int:
    """codesign hls4ml <model> [--io parallel|stream|both] [--no-synth]"""
    p = ArgumentParser(prog="codesign hls4ml", description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--io", choices=["parallel", "stream", "both"], default="both")
    p.add_argument("--no-synth", action="store_true", help="do not try vendor synthesis")
    args = p.parse_args(argv)
    common.require_model(args.model)
    ios = list(IO_TYPES.values()) if args.io == "both" else [IO_TYPES[args.io]]
    report = run(args.model, ios, synth=not args.no_synth)
    for io_type in ios:
        r = report["io"][io_type]
        print(
            f"hls4ml {io_type:<12} {r['samples']} samples  {describe(r, 'golden', 'hls4ml')}  "
            f"compile {r['compile_seconds']:.1f} s  csim {r['csim_seconds']:.2f} s"
        )
        v = r["vendor_synthesis"]
        if v["status"] == "skipped":
            print(
                f"  skipped vendor synthesis: {v['reason']}; where it exists run:\n"
                f"    {v['command']}"
            )
    print(f"wrote {paths.reports_dir(args.model) / 'hls4ml.json'}")
    return 1 if report["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
