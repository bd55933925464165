"""`codesign sfq <model>`: map a model to an SFQ neuromorphic netlist, simulate, report.

    codesign sfq xor [--margins]
    codesign sfq digits_mlp [--act-bits 3] [--samples 50] [--margins] [--biasing ersfq]

Writes build/<model>/sfq/netlist.json, build/<model>/reports/sfq.json and, with --margins,
build/<model>/reports/sfq_margins.png. Exit 0 when the SFQ run equals the golden model on
every sample, 1 when it does not, 2 on bad input (CodesignError).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from codesign import golden_io
from codesign.atomic import write_json
from codesign.errors import ArgumentParser, CodesignError, at_least, fail
from codesign.ir.graph import IntGraph
from codesign.paths import build_root
from codesign.sim.sfq import margins as mg
from codesign.sim.sfq.mapping import (
    map_graph,
    reduce_graph,
    reduce_input,
    xor_graph,
    xor_inputs,
)
from codesign.sim.sfq.report import netlist_stats, run_nominal

XOR_N = 15  # pulses per logic 1 in the XOR network
XOR_UNIT = 8  # neuron current resolution: units per weight step (exact at nominal bias)
BIAS_GRID = np.round(np.arange(0.50, 1.5001, 0.02), 3)
JITTER_GRID = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]
PAPER = {
    "source": "Karamuftuoglu, Krylov, Edwards, Friedman, arXiv 2311.10721",
    "claim": "XOR network with 'wide' bias/classification margins (no number in our references)",
}


def load_model(model: str, build: Path) -> tuple[IntGraph, np.ndarray, np.ndarray | None]:
    """IntGraph plus test inputs/labels of a zoo model exported under build/<model>/."""
    onnx = build / model / "onnx" / "model.onnx"
    npz = build / model / "golden" / golden_io.FILE
    if not onnx.exists():
        raise CodesignError(
            f"model '{model}' was not exported yet: {onnx} does not exist (export the model first)"
        )
    from codesign.ir.chain import load_int_graph

    graph = load_int_graph(str(onnx))
    graph.require_plain("sfq")
    d = golden_io.load(npz, ("input",), model)
    return graph, d["input"], d.get("labels")


def xor_margins(jitter: bool = True) -> dict:
    g = xor_graph(XOR_N)
    m = map_graph(g, unit=XOR_UNIT)
    x, ref = xor_inputs(XOR_N)
    sweep = mg.bias_sweep(m, x, ref, mg.xor_decide(XOR_N), BIAS_GRID)
    out = {"bias_sweep": sweep, "margin": mg.margin(sweep)}
    if jitter:
        out["jitter_sweep"] = mg.jitter_sweep(m, x, ref, mg.xor_decide(XOR_N), JITTER_GRID)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(prog="codesign sfq", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="'xor' (built-in 2-2-1 network) or a zoo model, e.g. digits_mlp")
    ap.add_argument("--build", default=str(build_root()), help="build folder (default: build)")
    ap.add_argument(
        "--act-bits",
        type=at_least(0),
        default=0,
        help="reduce input/hidden activations to this many bits (0: keep the model)",
    )
    ap.add_argument(
        "--samples",
        type=at_least(0),
        default=50,
        help="test samples to simulate (0: all); default 50",
    )
    ap.add_argument("--margins", action="store_true", help="bias and jitter sweeps + PNG plot")
    ap.add_argument(
        "--margin-samples",
        type=at_least(1),
        default=10,
        help="samples per point of the model's margin sweep (default 10)",
    )
    ap.add_argument("--biasing", choices=["rsfq", "ersfq"], default="rsfq")
    ap.add_argument("--period-ps", type=float, default=20.0, help="input pulse spacing (ps)")
    try:
        args = ap.parse_args(argv)
        return _run(args)
    except CodesignError as e:
        return fail(e)


def _run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    if not (math.isfinite(args.period_ps) and args.period_ps > 0):
        raise CodesignError(f"--period-ps must be a positive number of ps, got {args.period_ps}")
    if args.samples < 0:
        raise CodesignError(f"--samples must be >= 0 (0: all), got {args.samples}")
    build = Path(args.build)
    labels = None
    reduction = {"act_bits": None, "note": "none: the model as exported"}
    if args.model == "xor":
        graph = xor_graph(XOR_N)
        x, labels = xor_inputs(XOR_N)
        model = map_graph(graph, period_ps=args.period_ps, unit=XOR_UNIT)
        n_total = len(x)
    else:
        graph, x, labels = load_model(args.model, build)
        n_total = len(x)
        if args.act_bits:
            if args.act_bits < 1 or args.act_bits > graph.input_q.bits:
                raise CodesignError(
                    f"--act-bits {args.act_bits} out of range 1..{graph.input_q.bits}"
                )
            full = graph
            graph = reduce_graph(full, args.act_bits)
            x = reduce_input(full, x, args.act_bits)
            reduction = {
                "act_bits": args.act_bits,
                "note": f"input and hidden activations cut to {args.act_bits} bits "
                "(reduce_graph); weights unchanged; last layer keeps its width;"
                " the reduced graph's golden model is the reference",
            }
        if args.samples:
            x = x[: args.samples]
            labels = None if labels is None else labels[: args.samples]
        model = map_graph(graph, period_ps=args.period_ps)
    if args.samples and args.model == "xor":
        x = x[: args.samples]
    nom = run_nominal(model, x, biasing=args.biasing)
    sfq_out = nom.pop("sfq_out")
    gold_out = nom.pop("golden_out")
    doc: dict = {
        "model": args.model,
        "graph": graph.name,
        "reduction": reduction,
        "samples_simulated": int(len(x)),
        "samples_available": int(n_total),
        "netlist": netlist_stats(model),
        **nom,
    }
    if args.model == "xor":
        dec = mg.xor_decide(XOR_N)(sfq_out)
        doc["xor"] = {
            "inputs_pulses": x.tolist(),
            "out_pulses": sfq_out[:, 0].tolist(),
            "decision": dec.tolist(),
            "expected": labels.tolist(),
            "correct": bool((dec == labels).all()),
            "pulses_per_one": XOR_N,
        }
    elif labels is not None:
        doc["accuracy_sfq"] = float(np.mean(np.argmax(sfq_out, 1) == labels))
        doc["accuracy_golden"] = float(np.mean(np.argmax(gold_out, 1) == labels))
    report_dir = build / args.model / "reports"
    if args.margins:
        curves = {"xor": xor_margins()}
        if args.model != "xor":
            xm = x[: args.margin_samples]
            ref = np.argmax(gold_out[: args.margin_samples], 1)
            sw = mg.bias_sweep(model, xm, ref, mg.argmax_decide, BIAS_GRID)
            curves[args.model] = {
                "bias_sweep": sw,
                "margin": mg.margin(sw),
                "margin_90": mg.margin(sw, need=0.9),
                "jitter_sweep": mg.jitter_sweep(
                    model, xm, ref, mg.argmax_decide, JITTER_GRID[:4], trials=2
                ),
                "samples": int(len(xm)),
            }
        png = report_dir / "sfq_margins.png"
        mg.plot(curves, png)
        doc["margins"] = {
            "curves": curves,
            "plot": str(png),
            "paper": PAPER,
            "model": "behavioural: cells.bias_window, neuro.scale_for_bias",
        }
    model.netlist.save(build / args.model / "sfq" / "netlist.json")
    doc["run_time_s"] = time.perf_counter() - t_start
    write_json(report_dir / "sfq.json", doc)
    pi = doc["per_inference"]
    print(
        f"sfq {args.model}: {len(x)} samples, equal to golden: {doc['equal_to_golden']} "
        f"({doc['mismatches']} mismatches), {doc['netlist']['jj_count']} JJs, "
        f"{pi['events']:.0f} events/inference, latency {pi['latency_ps']:.0f} ps, "
        f"E {pi['total_J']:.3e} J/inference ({args.biasing}), "
        f"{doc['events_per_s']:.0f} events/s wall, {doc['events_per_cpu_s']:.0f} per CPU-s"
    )
    if "margins" in doc:
        for name, cv in doc["margins"]["curves"].items():
            m = cv["margin"]
            print(f"  bias margin {name}: -{m['minus_pct']}% / +{m['plus_pct']}% (all decisions)")
            if "margin_90" in cv:
                m = cv["margin_90"]
                print(f"  bias margin {name}: -{m['minus_pct']}% / +{m['plus_pct']}% (>= 90%)")
    print(f"  wrote {report_dir / 'sfq.json'}")
    return 0 if doc["equal_to_golden"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
