"""`codesign finn <model>`: QONNX export -> FINN (finn-plus, no Vivado) -> RTL layers simulated
under Verilator, each compared with the golden model.

Steps (each from FINN; ../shared/TOOLCHAIN.md): LutQuantToQuant -> integer input (the input
quantizer is the golden model's boundary step, so the partition takes the UINT8 integers) ->
step_qonnx_to_finn -> step_tidy_up -> step_streamline -> exact thresholds (see below) ->
InferThresholdingLayer + InferQuantizedMatrixVectorActivation -> CreateDataflowPartition ->
preferred_impl_style "rtl" -> SpecializeLayers -> folding (flows/<model>.yaml) -> bit-width
minimisation (+ RoundAndClipThresholds) -> estimate reports -> PrepareIP (RTL code generation).
The trailing output-scale Mul stays outside the partition, so the partition's output is the
golden model's integer logits.

Thresholds: FINN derives them in float32 and rounds ties up; the pass counts how many of FINN's
thresholds (within the reachable accumulator range) differ from the exact IntGraph ones, reports
that number, and installs the exact ones (codesign.hls.thresholds).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from codesign import paths
from codesign.atomic import write_json
from codesign.errors import ArgumentParser, CodesignError, at_least
from codesign.hls import common
from codesign.hls.finn_env import prepare_finn
from codesign.hls.support import check_ops
from codesign.hls.thresholds import check as check_thresholds
from codesign.hls.thresholds import exact_thresholds
from codesign.ir.compare import compare_layers, describe
from codesign.ir.golden import matmul_exact
from codesign.ir.graph import IntGraph

DEFAULT_PART = "xczu3eg-sbva484-1-e"  # Ultra96 (CoDeNet's board); UltraScale+ -> DSP48E2


def finn_settings(model: str) -> dict:
    """Part, clock and folding: flows/<model>.yaml `finn:` section, else the `rtl:` folding."""
    flow = paths.flow_config(model)
    fs, rtl = flow.get("finn", {}) or {}, flow.get("rtl", {}) or {}
    clock_mhz = float(fs.get("clock_mhz", rtl.get("clock_mhz", 100)))
    return {
        "fpga_part": fs.get("fpga_part", DEFAULT_PART),
        "clock_ns": 1000.0 / clock_mhz,
        "folding": fs.get("folding", rtl.get("folding", {})),
    }


def integer_input(mw):
    """Replace the input Quant by a Mul with its scale and mark the input UINTn/INTn: the
    partition then starts from the golden model's integer input."""
    from onnx import helper
    from qonnx.core.datatype import DataType

    q = mw.find_consumer(mw.graph.input[0].name)
    if q is None or q.op_type != "Quant":
        raise CodesignError("FINN flow: the model input must go through a Quant node first")
    scale = mw.get_initializer(q.input[1])
    bits = int(np.asarray(mw.get_initializer(q.input[3])).reshape(-1)[0])
    signed = bool(next((a.i for a in q.attribute if a.name == "signed"), 1))
    mul = helper.make_node("Mul", [q.input[0], "input_scale"], [q.output[0]], name="input_scale")
    mw.set_initializer("input_scale", np.asarray(scale, dtype=np.float32))
    idx = mw.get_node_index(q)
    mw.graph.node.remove(q)
    mw.graph.node.insert(idx, mul)
    mw.set_tensor_datatype(mw.graph.input[0].name, DataType[f"{'INT' if signed else 'UINT'}{bits}"])
    return mw.cleanup()


def install_exact_thresholds(mw, graph: IntGraph) -> dict:
    """Check FINN's streamlined MatMul -> MultiThreshold chain against the IntGraph, count
    FINN's off-by-one thresholds, and replace them by the exact ones."""
    from qonnx.custom_op.registry import getCustomOp

    mms = mw.get_nodes_by_op_type("MatMul")
    mts = mw.get_nodes_by_op_type("MultiThreshold")
    if len(mms) != len(graph.layers) or len(mts) != len(graph.layers):
        ops = [n.op_type for n in mw.graph.node]
        raise CodesignError(
            f"FINN streamlining did not give MatMul -> MultiThreshold per layer: {ops}"
        )
    stats = {}
    for lay, mm, mt in zip(graph.layers, mms, mts, strict=True):
        w = mw.get_initializer(mm.input[1])
        if w is None or not np.array_equal(w, lay.weight.T):
            raise CodesignError(f"FINN node '{mm.name}': weights differ from layer '{lay.name}'")
        inst = getCustomOp(mt)
        out_bias = int(inst.get_nodeattr("out_bias"))
        if out_bias != lay.requant.lo:
            raise CodesignError(f"FINN node '{mt.name}': out_bias {out_bias} != {lay.requant.lo}")
        exact = exact_thresholds(lay)
        check_thresholds(lay, exact)
        theirs = np.ceil(np.asarray(mw.get_initializer(mt.input[1]), dtype=np.float64))
        theirs = np.broadcast_to(theirs, exact.shape)
        hi_in = lay.in_q.hi
        lo_acc = (np.minimum(lay.weight, 0).sum(axis=1) * hi_in)[:, None]
        hi_acc = (np.maximum(lay.weight, 0).sum(axis=1) * hi_in)[:, None] + 1
        differ = np.clip(theirs, lo_acc, hi_acc) != np.clip(exact, lo_acc, hi_acc)
        stats[lay.name] = {"thresholds": int(exact.size), "finn_off_by_one": int(differ.sum())}
        mw.set_initializer(mt.input[1], exact.astype(np.float32))
        if not np.array_equal(exact.astype(np.float32).astype(np.int64), exact):
            raise CodesignError(f"layer '{lay.name}': thresholds exceed float32's exact range")
    return stats


def apply_folding(df, settings: dict, graph: IntGraph) -> dict:
    """PE/SIMD per MVAU from the flow file (keys = IntGraph layer names); Thresholding gets its
    MVAU's PE. Returns the FINN folding config written next to the build."""
    from qonnx.custom_op.registry import getCustomOp

    mv = [n for n in df.graph.node if n.op_type.startswith("MVAU")]
    th = [n for n in df.graph.node if n.op_type.startswith("Thresholding")]
    fold = {"Defaults": {}}
    for lay, a, b in zip(graph.layers, mv, th, strict=True):
        f = settings["folding"].get(lay.name, {"pe": 1, "simd": 1})
        pe, simd = int(f.get("pe", 1)), int(f.get("simd", 1))
        if lay.out_features % pe or lay.in_features % simd:
            raise CodesignError(
                f"folding of layer '{lay.name}': PE {pe} must divide {lay.out_features} and "
                f"SIMD {simd} must divide {lay.in_features}"
            )
        getCustomOp(a).set_nodeattr("PE", pe)
        getCustomOp(a).set_nodeattr("SIMD", simd)
        getCustomOp(b).set_nodeattr("PE", pe)
        fold[a.name] = {"PE": pe, "SIMD": simd}
        fold[b.name] = {"PE": pe}
    return fold


def build(model: str, graph: IntGraph, work: Path) -> tuple:
    """Run the FINN steps; returns (dataflow ModelWrapper, report pieces)."""
    prepare_finn(work)
    import finn.builder.build_dataflow_steps as steps  # noqa: I001 (after prepare_finn)
    from finn.analysis.fpgadataflow.dataflow_performance import dataflow_performance
    from finn.analysis.fpgadataflow.exp_cycles_per_layer import exp_cycles_per_layer
    from finn.analysis.fpgadataflow.res_estimation import res_estimation
    from finn.builder.build_dataflow_config import DataflowBuildConfig, DataflowOutputType
    from finn.transformation.fpgadataflow.annotate_cycles import AnnotateCycles
    from finn.transformation.fpgadataflow.convert_to_hw.quantized_matrix_vector_activation import (  # noqa: E501
        InferQuantizedMatrixVectorActivation,
    )
    from finn.transformation.fpgadataflow.convert_to_hw.thresholding import (
        InferThresholdingLayer,
    )
    from finn.transformation.fpgadataflow.create_dataflow_partition import (
        CreateDataflowPartition,
    )
    from finn.transformation.fpgadataflow.prepare_ip import PrepareIP
    from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp
    from qonnx.transformation.general import GiveUniqueNodeNames

    settings = finn_settings(model)
    cfg = DataflowBuildConfig(
        output_dir=str(work / "output"),
        synth_clk_period_ns=settings["clock_ns"],
        fpga_part=settings["fpga_part"],
        generate_outputs=[DataflowOutputType.ESTIMATE_REPORTS],
        steps=[],
    )
    times = {}

    def timed(name, fn, *a):
        t0 = time.time()
        out = fn(*a)
        times[name] = round(time.time() - t0, 2)
        return out

    mw = common.plain_qonnx(model)
    check_ops(mw.model, "FINN")
    mw = integer_input(mw)
    mw = timed("qonnx_to_finn", steps.step_qonnx_to_finn, mw, cfg)
    mw = timed("tidy_up", steps.step_tidy_up, mw, cfg)
    mw = timed("streamline", steps.step_streamline, mw, cfg)
    thresholds = install_exact_thresholds(mw, graph)
    mw = mw.transform(InferThresholdingLayer())
    mw = mw.transform(InferQuantizedMatrixVectorActivation())
    parent = timed("create_dataflow_partition", mw.transform, CreateDataflowPartition())
    sdps = parent.get_nodes_by_op_type("StreamingDataflowPartition")
    outside = [f"{n.name} ({n.op_type})" for n in parent.graph.node if n not in sdps]
    if len(sdps) != 1:
        raise CodesignError(f"FINN made {len(sdps)} dataflow partitions (expected 1)")
    df = ModelWrapper(getCustomOp(sdps[0]).get_nodeattr("model"))
    for n in df.graph.node:
        getCustomOp(n).set_nodeattr("preferred_impl_style", "rtl")
    df = timed("specialize_layers", df.transform, SpecializeLayers(settings["fpga_part"]))
    not_rtl = [f"{n.name} ({n.op_type})" for n in df.graph.node if not n.op_type.endswith("_rtl")]
    if not_rtl:
        raise CodesignError(f"FINN could not specialise to RTL (would need Vitis HLS): {not_rtl}")
    folding = apply_folding(df, settings, graph)
    df = timed("minimize_bit_width", steps._minimize_bit_width, df, cfg)
    part = settings["fpga_part"]
    resources = df.analysis(lambda m: res_estimation(m, part))
    cycles = df.analysis(exp_cycles_per_layer)
    df = df.transform(AnnotateCycles())
    perf = df.analysis(dataflow_performance)
    df = df.transform(GiveUniqueNodeNames())
    df = timed("hw_codegen", df.transform, PrepareIP(part, settings["clock_ns"]))
    layers = {}
    for n in df.graph.node:
        inst = getCustomOp(n)
        layers[n.name] = {
            "op": n.op_type,
            "estimate": {k: resources[n.name][k] for k in ("LUT", "BRAM_18K", "URAM", "DSP")},
            "cycles_estimate": int(cycles[n.name]),
            "input_dtype": str(inst.get_input_datatype()),
            "output_dtype": str(inst.get_output_datatype()),
            "folding": folding.get(n.name, {}),
            "rtl_files": [str(f) for f in inst.get_rtl_file_list(abspath=True)],
        }
    info = {
        "fpga_part": part,
        "clock_ns": settings["clock_ns"],
        "folding": folding,
        "outside_partition": outside,
        "threshold_check": thresholds,
        "layers": layers,
        "estimate_totals": {
            k: float(sum(v["estimate"][k] for v in layers.values()))
            for k in ("LUT", "BRAM_18K", "URAM", "DSP")
        },
        "cycles_per_inference_estimate": int(perf["max_cycles"]),
        "latency_cycles_estimate": int(perf["critical_path_cycles"]),
        "step_seconds": times,
        "notes": [
            "FINN's LUT estimate for MVAU_rtl is hard-coded 0 (finn-plus 1.6.1); use Yosys "
            "numbers for LUTs (../shared/TOOLCHAIN.md)",
        ],
    }
    return df, info


def layer_pairs(df, graph: IntGraph) -> list[tuple]:
    """(FINN node, IntGraph layer, golden input key, golden output key) for each RTL layer."""
    out = []
    for i, lay in enumerate(graph.layers):
        prev = "input" if i == 0 else graph.layers[i - 1].name
        out.append((f"MVAU_rtl_{i}", lay, prev, f"{lay.name}.acc"))
        out.append((f"Thresholding_rtl_{i}", lay, f"{lay.name}.acc", lay.name))
    names = {n.name for n in df.graph.node}
    missing = [p[0] for p in out if p[0] not in names]
    if missing:
        raise CodesignError(f"FINN dataflow model lacks RTL layers {missing}")
    return out


def golden_with_acc(graph: IntGraph, golden: dict) -> dict:
    """Golden tensors plus each layer's bias-free accumulator W_int . x (what an MVAU streams
    out; the golden executor computes it as its first step)."""
    g = dict(golden)
    for i, lay in enumerate(graph.layers):
        prev = "input" if i == 0 else graph.layers[i - 1].name
        g[f"{lay.name}.acc"] = matmul_exact(golden[prev], lay.weight.T)
    return g


def simulate(df, graph: IntGraph, golden: dict, work: Path, only=None, samples=None, stall=0.2):
    """Simulate the FINN RTL layers (all, or the names in `only`) and compare each output with
    the golden tensor of that layer."""
    from qonnx.custom_op.registry import getCustomOp

    from codesign.hls.finn_rtlsim import simulate_layer

    g = golden_with_acc(graph, golden)
    n = len(g["input"]) if samples is None else int(samples)
    results = {}
    for name, _lay, src, dst in layer_pairs(df, graph):
        if only and name not in only:
            continue
        node = df.get_node_from_name(name)
        r = simulate_layer(node, getCustomOp(node), g[src][:n], work / "rtlsim" / name, stall=stall)
        cmp = compare_layers({dst: g[dst][:n]}, {dst: r["outputs"]}, [dst], "golden", "finn_rtl")
        results[name] = {
            "golden_tensor": dst,
            "samples": n,
            "mismatches": cmp["mismatches"],
            "first_mismatch": cmp["first_mismatch"],
            "cycles_per_inference_sim": round(r["cycles_total"] / n, 2),
            "latency_cycles_first_sample": r["latency_cycles_first_sample"],
            "build_seconds": r["build_seconds"],
            "sim_seconds": r["sim_seconds"],
            "stall_probability": r["stall_probability"],
        }
    return results


def run(model: str, rtlsim: bool = True, only=None, samples=None) -> dict:
    """Build, estimate, generate RTL, simulate; write build/<model>/reports/finn.json."""
    graph = common.int_graph(model)
    golden = common.golden_tensors(model)
    work = (paths.model_dir(model) / "finn").resolve()
    if work.exists():
        shutil.rmtree(work)  # FINN writes code_gen_* folders; a fresh folder per run
    t0 = time.time()
    log = io.StringIO()
    logging.getLogger("finn").setLevel(logging.WARNING)
    with warnings.catch_warnings(), contextlib.redirect_stdout(log):
        warnings.simplefilter("ignore")
        df, info = build(model, graph, work)
        df.save(str(work / "dataflow_rtl.onnx"))
        write_json(work / "folding_config.json", info["folding"])
        build_s = time.time() - t0
        sims = simulate(df, graph, golden, work, only, samples) if rtlsim else {}
    for name, r in sims.items():
        info["layers"][name]["rtlsim"] = r
    report = {
        "model": model,
        "samples": max((r["samples"] for r in sims.values()), default=0),
        "mismatches": sum(r["mismatches"] for r in sims.values()),
        "layer_mismatches": {k: r["mismatches"] for k, r in sims.items()},
        "first_mismatch": next(
            (r["first_mismatch"] for r in sims.values() if r["first_mismatch"]), None
        ),
        "layers_simulated": list(sims),
        "flow_seconds": round(build_s, 1),
        "rtlsim_seconds": round(time.time() - t0 - build_s, 1),
        "dataflow_model": str(work / "dataflow_rtl.onnx"),
        **info,
    }
    write_json(paths.reports_dir(model) / "finn.json", report)
    return report


def main(argv: list[str]) -> int:
    """codesign finn <model> [--no-rtlsim] [--layer NAME ...] [--samples N]"""
    p = ArgumentParser(prog="codesign finn", description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--no-rtlsim", action="store_true", help="stop after RTL code generation")
    p.add_argument("--layer", action="append", help="simulate only this FINN layer (repeatable)")
    p.add_argument(
        "--samples", type=at_least(1), help="simulate the first N test samples (default all)"
    )
    args = p.parse_args(argv)
    common.require_model(args.model)
    r = run(args.model, rtlsim=not args.no_rtlsim, only=args.layer, samples=args.samples)
    print(f"FINN ({r['fpga_part']}, {r['clock_ns']:.1f} ns): flow {r['flow_seconds']} s")
    print(f"{'layer':<20}{'LUT':>7}{'BRAM18':>8}{'DSP':>5}{'cycles':>8}  RTL sim vs golden")
    for name, lay in r["layers"].items():
        e, s = lay["estimate"], lay.get("rtlsim")
        sim = (
            "not simulated"
            if s is None
            else (
                f"{s['samples']} samples, {describe(s, 'golden', 'finn_rtl')} "
                f"({s['golden_tensor']})"
            )
        )
        print(
            f"{name:<20}{e['LUT']:>7.0f}{e['BRAM_18K']:>8.0f}{e['DSP']:>5.0f}"
            f"{lay['cycles_estimate']:>8}  {sim}"
        )
    off = sum(v["finn_off_by_one"] for v in r["threshold_check"].values())
    print(f"FINN float thresholds off by one (replaced by exact ones): {off}")
    print(f"wrote {paths.reports_dir(args.model) / 'finn.json'}")
    return 1 if r["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
