"""`codesign <verb> <model> [options]`: a thin layer over codesign.flow and the backends.

User errors (CodesignError) print one line on stderr and exit 2, with no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys

from codesign.errors import ArgumentParser, CodesignError, fail, os_error_text

# verb -> (help, "module:function" taking argv, or None for the built-in flow verbs)
EXTERNAL_VERBS: dict[str, tuple[str, str]] = {
    "import": (
        "import a QONNX file (brevitas/QKeras export) as model NAME: integer graph, golden vs "
        "qonnx's executor on every layer (build/NAME/reports/import.json)",
        "codesign.importer:main",
    ),
    "energy": (
        "energy per inference: 45 nm table, or --targets fpga,asic45,reram,sfq from activity",
        "codesign.energy.cli:main",
    ),
    "report": (
        "static HTML report of a model (build/<model>/report/index.html), or --all",
        "codesign.report.cli:main",
    ),
    "rtl": (
        "generate Verilog from the integer graph (build/<model>/rtl/, manifest.json)",
        "codesign.rtl.generate:main",
    ),
    "sim": (
        "simulate the generated RTL on the test split vs the golden model (reports/rtl_sim.json)",
        "codesign.verify.simulate:main",
    ),
    "asq": (
        "ASQ stage RTL (cs_asq, cs_requant DYN=1) vs the golden model (reports/asq_rtl.json)",
        "codesign.verify.asq_sim:main",
    ),
    "synth": (
        "Yosys synthesis of the generated RTL (--target xc7|ice40; reports/synth_<target>.json)",
        "codesign.rtl.synth:main",
    ),
    "bitstream": (
        "iCE40 place and route and bitstream of the generated RTL (--device up5k|hx8k; "
        "reports/pnr_<device>.json)",
        "codesign.rtl.pnr:main",
    ),
    "snn": (
        "spiking flows with their own options (e.g. `snn train shd_delays --data SHD.h5`)",
        "codesign.snn.cli:main",
    ),
    "sweep": (
        "design-space sweep on Dask (grid/random/optuna), resumable, one build folder per point",
        "codesign.dse.sweep:main",
    ),
    "pareto": ("Pareto fronts and PNG plots of a sweep", "codesign.dse.pareto:main"),
    "delta": (
        "delta activations on a frame sequence: threshold sweep, golden vs PyTorch, RTL vs golden",
        "codesign.delta.cli:main",
    ),
    "quantizers": (
        "quantizer variants (uniform, POST, ASQ, AdaLog) x bits: accuracy, LUT/FF, energy table",
        "codesign.quant.table:main",
    ),
    "hls4ml": (
        "hls4ml C-simulation (io_parallel/io_stream) vs the golden model",
        "codesign.hls.hls4ml_flow:main",
    ),
    "finn": (
        "FINN RTL flow: estimates, RTL code, Verilator layer simulations vs golden",
        "codesign.hls.finn_flow:main",
    ),
    "compare": (
        "own RTL / hls4ml / FINN side by side (reports/compare.json + PNG)",
        "codesign.hls.compare:main",
    ),
    "sfq": (
        "pulse-level SFQ simulation of a model (or the xor network): exactness, timing, energy",
        "codesign.sim.sfq.cli:main",
    ),
    "reram": (
        "map a model onto ReRAM crossbars (noise, drift, faults, ADC/DAC), sweeps, energy",
        "codesign.sim.reram.cli:main",
    ),
}

FLOW_VERBS = {
    "train": "train the float baseline and the QAT model (build/<model>/checkpoint.pt)",
    "export": "export the QAT model to QONNX (build/<model>/onnx/model.onnx)",
    "golden": "run the integer golden model on the test split, compare with PyTorch",
    "demo": "train (or reuse), export, golden, energy, then print the summary table",
}


def _print_json(d: dict) -> None:
    print(json.dumps(d, indent=2, default=str))


def cmd_models(_: argparse.Namespace) -> int:
    from codesign.models import zoo

    for name in zoo.names():
        print(f"{name:<14} {zoo.get(name).description}")
    return 0


def _summary(model: str) -> str:
    from codesign import paths

    rep = paths.reports_dir(model)
    g = json.loads((rep / "golden.json").read_text())
    e = json.loads((rep / "energy.json").read_text())
    rows = [
        ("float accuracy", f"{100 * g['accuracy_float']:.2f} %"),
        ("quantized accuracy (PyTorch)", f"{100 * g['accuracy_quant']:.2f} %"),
        ("golden-model accuracy", f"{100 * g['accuracy_golden']:.2f} %"),
        ("golden vs PyTorch mismatches", f"{g['mismatches']} over {g['samples']} samples"),
        ("parameters (weights)", f"{sum(r['macs'] for r in e['layers'])}"),
        ("weight memory", f"{e['weight_memory_bits']} bits"),
        ("energy / inference (45 nm)", f"{e['total_pJ']:.1f} pJ"),
        ("  float32 same shape", f"{e['fp32_baseline_pJ']:.1f} pJ"),
    ]
    if (rep / "rtl_sim.json").is_file():
        r = json.loads((rep / "rtl_sim.json").read_text())
        rows += [
            (
                f"RTL vs golden mismatches ({r['simulator']})",
                f"{r['mismatches_all_layers']} over {r['samples']} samples, every layer",
            ),
            (
                "RTL cycles / inference",
                f"{r['cycles_per_inference']:.0f} latency (ideal "
                f"{r['ideal_cycles_per_inference']}), "
                f"{r['interval_cycles_per_inference']:.0f} interval",
            ),
        ]
    if (rep / "synth_xc7.json").is_file():
        y = json.loads((rep / "synth_xc7.json").read_text())
        rows.append(
            (
                "Yosys xc7 LUT / FF / DSP / BRAM",
                f"{y['LUT']:g} / {y['FF']:g} / {y['DSP']:g} / {y['BRAM']:g}",
            )
        )
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _hardware_demo(model: str) -> None:
    """Own RTL: generate, simulate the whole test split under Verilator, synthesise for xc7."""
    from codesign.rtl.generate import main as rtl_main
    from codesign.rtl.synth import main as synth_main
    from codesign.verify.simulate import main as sim_main

    for step, argv in (
        (rtl_main, [model]),
        (sim_main, [model]),
        (synth_main, [model, "--target", "xc7"]),
    ):
        if step(argv):
            raise CodesignError(f"demo step {step.__module__} failed for '{model}'")


def parse_overrides(items: list[str]) -> dict:
    """`--set quant.act_quant=asq --set quant.act_quant_args={Gf: 5}` -> flow.train overrides.

    Values are YAML (numbers, booleans, lists, dicts); keys are `<section>.<key>[.<key>...]`.
    """
    import yaml

    out: dict = {}
    for item in items:
        key, eq, raw = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not eq or len(parts) < 2:
            raise CodesignError(
                f"--set expects SECTION.KEY=VALUE (e.g. quant.act_quant=asq), got '{item}'"
            )
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise CodesignError(f"--set {key}: value '{raw}' is not valid YAML") from None
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise CodesignError(f"--set {key}: '{p}' is already a value")
        node[parts[-1]] = value
    return out


def _imported_verb(verb: str, rest: list[str]) -> int | None:
    """An imported model (`codesign import`) under any verb: run it or refuse it by name."""
    from codesign import importer, paths

    if not rest or rest[0].startswith("-"):
        return None
    root = _option(rest[1:], "--build-dir")  # the verb's own build folder, if it is given one
    with paths.using_workspace(root) if root else contextlib.nullcontext():
        if not importer.is_imported(rest[0]):
            return None
        return _imported_in_root(verb, rest[0], rest[1:])


def _option(opts: list[str], flag: str) -> str | None:
    for i, tok in enumerate(opts):
        if tok == flag and i + 1 < len(opts):
            return opts[i + 1]
        if tok.startswith(flag + "="):
            return tok.split("=", 1)[1]
    return None


def _imported_in_root(verb: str, name: str, opts: list[str]) -> int:
    from codesign import importer

    if verb not in importer.IMPORTED_VERBS:
        importer.refuse_verb(verb, name)
    if verb in importer.CHAIN_VERBS:
        return _imported_hardware(verb, name, opts)
    if opts:
        raise CodesignError(f"`codesign {verb}` of imported model '{name}' takes no options {opts}")
    if verb == "energy":
        from codesign.energy.graph45 import table

        print(table(importer.energy(name)))
        return 0
    r = importer.golden(name)
    print(
        f"{name}: golden vs qonnx's executor on {r['samples']} inputs, every layer: "
        f"{r['mismatches']} mismatching integers"
    )
    if r["mismatches"]:
        from codesign.graph.oracle import describe

        raise CodesignError(f"golden model of '{name}' differs from qonnx: {describe(r)}")
    return 0


def _imported_hardware(verb: str, name: str, opts: list[str]) -> int:
    """`codesign rtl|sim|synth|bitstream NAME` of an imported model: the verb's own code on the
    MVU chain lowered from the model's graph (refused, naming the node, where it cannot take it)."""
    from codesign import importer, paths

    importer.chain_graph(name)  # the refusal, before any file is written
    argv = [name, *opts]
    if verb == "sim":
        gold = paths.golden_dir(name) / importer.CHAIN_GOLDEN
        if not gold.is_file():
            raise CodesignError(
                f"{gold} missing: run `codesign golden {name}` (it is written only when the "
                "golden model matches qonnx's executor)"
            )
        argv += ["--golden", str(gold)]
    mod, func = EXTERNAL_VERBS[verb][1].split(":")
    return int(getattr(importlib.import_module(mod), func)(argv) or 0)


def cmd_flow(args: argparse.Namespace) -> int:
    from codesign import flow
    from codesign.models import zoo

    mod = zoo.module(args.model)
    verb = args.verb
    overrides = parse_overrides(getattr(args, "set", None) or [])
    custom = getattr(mod, f"flow_{verb}", None)
    if custom is not None:  # a model family with its own flow (e.g. spiking networks)
        if overrides:
            raise CodesignError(f"`{verb} {args.model}` does not take --set")
        _print_json(custom(args.model))
        return 0
    if verb == "train":
        _print_json(flow.train(args.model, overrides or None))
    elif verb == "export":
        _print_json(flow.export(args.model))
    elif verb == "golden":
        r = flow.golden(args.model)
        _print_json(r)
        if r["mismatches"]:
            from codesign.ir.compare import describe

            print(
                "codesign: error: golden model differs from PyTorch: "
                f"{describe(r, 'golden', 'pytorch')}",
                file=sys.stderr,
            )
            return 1
    elif verb == "energy":
        from codesign.energy.digital import table

        print(table(flow.energy(args.model)))
    elif verb == "demo":
        flow.ensure_trained(args.model)
        flow.export(args.model)
        flow.golden(args.model)
        flow.energy(args.model)
        _hardware_demo(args.model)
        print(f"\n{args.model}\n" + _summary(args.model))
    return 0


def _model_flow(verb: str, rest: list[str]):
    """A zoo model's own `flow_<verb>` (e.g. `codesign rtl delay_snn`), if it has one."""
    from codesign.models import zoo

    if not rest or rest[0] not in zoo.ZOO:
        return None
    return getattr(zoo.module(rest[0]), f"flow_{verb.replace('-', '_')}", None)


# options a model family's own flow function may take (by parameter name), and their types
FLOW_OPTIONS = {"samples": int, "target": str}


def _flow_options(verb: str, model: str, func, opts: list[str]) -> dict:
    """The options a model's own flow function takes, parsed; anything else is refused by name
    (never dropped: `codesign sim delay_snn --samples 0` must reach the simulator)."""
    import inspect

    takes = [p for p in inspect.signature(func).parameters if p in FLOW_OPTIONS]
    usage = " ".join(f"[--{p} {p.upper()}]" for p in takes) or "no options"
    out, it = {}, iter(opts)
    for tok in it:
        key = tok[2:].replace("-", "_") if tok.startswith("--") else None
        key, _, inline = (key or "").partition("=")
        if key not in takes:
            raise CodesignError(f"`codesign {verb} {model}` takes {usage}; got '{tok}'")
        val = inline or next(it, None)
        try:
            out[key] = FLOW_OPTIONS[key](val)
        except (TypeError, ValueError):
            raise CodesignError(
                f"--{key} needs a {FLOW_OPTIONS[key].__name__}, got {val!r}"
            ) from None
    return out


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="codesign",
        description="Quantization-aware models to verified hardware and energy.",
    )
    sub = p.add_subparsers(dest="verb", metavar="<verb>")
    sub.required = True
    m = sub.add_parser("models", help="list the model zoo")
    m.set_defaults(func=cmd_models)
    for verb, text in FLOW_VERBS.items():
        s = sub.add_parser(verb, help=text, description=text)
        s.add_argument("model", help="zoo model name (see `codesign models`)")
        if verb == "train":
            s.add_argument(
                "--set",
                action="append",
                default=[],
                metavar="SECTION.KEY=VALUE",
                help="override the flow file, e.g. --set quant.act_quant=asq (repeatable)",
            )
        s.set_defaults(func=cmd_flow)
    for verb, (text, _) in EXTERNAL_VERBS.items():
        s = sub.add_parser(verb, help=text, add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _finish_interrupted(argv: list[str]) -> None:
    """Finish (or drop) what a killed run of a step left in the model's folder, whichever
    build folder the verb is given, before the verb reads it."""
    import re
    from pathlib import Path

    from codesign.atomic import finish_interrupted
    from codesign.paths import build_root

    if len(argv) < 2 or not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", argv[1]):
        return
    given = _option(argv[2:], "--build-dir")
    root = Path(given) if given else None
    folder = (root or build_root()) / argv[1]
    if folder.is_dir():
        finish_interrupted(folder)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _finish_interrupted(argv)
        if argv and argv[0] != "import":
            done = _imported_verb(argv[0], argv[1:])
            if done is not None:
                return done
        if argv and argv[0] in EXTERNAL_VERBS:
            custom = _model_flow(argv[0], argv[1:])
            if custom is not None:
                _print_json(custom(argv[1], **_flow_options(argv[0], argv[1], custom, argv[2:])))
                return 0
            mod, func = EXTERNAL_VERBS[argv[0]][1].split(":")
            return int(getattr(importlib.import_module(mod), func)(argv[1:]) or 0)
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except CodesignError as e:
        return fail(e)
    except OSError as e:  # a full disk, a read-only build folder, a tool that is not there
        return fail(os_error_text(e))


if __name__ == "__main__":
    sys.exit(main())
