"""`codesign reram <model>`: run an exported integer model (or the lsm_reram model) on crossbars.

Writes build/<model>/reports/reram.json and PNG plots next to it. Exit 0 on success, 1 if the
ideal crossbar is not bit-exact against the golden model (a bug), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from codesign.atomic import write_json
from codesign.errors import ArgumentParser, CodesignError, at_least, fail
from codesign.ir import chain
from codesign.paths import build_root
from codesign.sim.reram.config import CrossbarConfig, parse_value
from codesign.sim.reram.evaluate import STANDARD_SWEEPS, parse_sweep, run_point, sweep
from codesign.sim.reram.model_io import digital_reference, load_exported

LSM_MODEL = "lsm_reram"


def _parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise CodesignError(f"--set '{item}': expected name=value")
        name, val = item.split("=", 1)
        out[name] = parse_value(name, val)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="codesign reram",
        description="Run a model on the ReRAM crossbar simulator (accuracy, sweeps, energy).",
    )
    p.add_argument(
        "model", help="exported model under build/<model>/ (e.g. digits_mlp) or lsm_reram"
    )
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        help="name=a..b | name=a..b:n | name=v1,v2 | name; repeatable; default: all standard "
        f"sweeps ({', '.join(STANDARD_SWEEPS)}); 'none' to skip",
    )
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument(
        "--repeats", type=at_least(1), default=3, help="seeds per sweep point (default 3)"
    )
    p.add_argument("--set", action="append", default=[], help="override a crossbar parameter")
    p.add_argument(
        "--base",
        choices=("ideal", "default"),
        default="ideal",
        help="sweep each knob alone on the ideal crossbar (default) or on the default one",
    )
    p.add_argument(
        "--calib", type=at_least(0), default=64, help="inputs used to calibrate ADC ranges"
    )
    p.add_argument("--build", type=Path, default=build_root())
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--nmnist-root", type=Path, help="lsm_reram: real N-MNIST folder instead")
    p.add_argument("--limit", type=at_least(1), help="lsm_reram: use only the first N samples")
    return p


def main(argv: list[str]) -> int:
    """Entry point of the `reram` verb."""
    args = build_parser().parse_args(argv)
    try:
        if args.repeats < 1:
            raise CodesignError("--repeats must be >= 1")
        if args.model == LSM_MODEL:
            return _run_lsm(args)
        return _run_model(args)
    except CodesignError as exc:
        return fail(exc)


def _run_model(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    sets = _parse_sets(args.set)
    sweeps = [] if args.sweep == ["none"] else [parse_sweep(s) for s in args.sweep]
    if not args.sweep:
        sweeps = [(k, list(v[0])) for k, v in STANDARD_SWEEPS.items()]
    graph, x, labels = load_exported(args.model, args.build)
    calib = x[: args.calib] if args.calib > 0 else None
    gold = chain.run(graph, x)
    last = graph.layers[-1].name
    golden_acc = float(np.mean(gold[last].argmax(axis=1) == labels))

    ideal_cfg = CrossbarConfig.ideal(seed=args.seed, **sets)
    ideal = run_point(graph, x, labels, ideal_cfg, calib, gold, with_energy=True)
    default_cfg = CrossbarConfig(seed=args.seed).replace(**sets)
    default = run_point(graph, x, labels, default_cfg, calib, gold, with_energy=True)
    base = ideal_cfg if args.base == "ideal" else default_cfg
    results = {}
    for name, values in sweeps:
        results[name] = sweep(graph, x, labels, name, values, base, calib, args.repeats)

    out_dir = args.build / args.model / "reports"
    report = {
        "model": args.model,
        "n_test": int(len(x)),
        "golden_accuracy": golden_acc,
        "mapping": _mapping_summary(graph, default_cfg),
        "ideal": {"config": ideal_cfg.to_dict(), **ideal},
        "default": {"config": default_cfg.to_dict(), **default},
        "sweep_base": args.base,
        "sweeps": results,
        "calibration": f"ADC ranges from the first {len(calib) if calib is not None else 0} "
        "test inputs (unsupervised: ideal column sums, no labels)",
        "digital_45nm": digital_reference(args.model, args.build),
        "runtime_s": None,
    }
    dig = report["digital_45nm"]
    if dig.get("available") and isinstance(dig["report"].get("total_pJ"), (int, float)):
        reram_pj = 1e12 * default["energy"]["per_inference"]["total_j"]
        report["energy_vs_digital_45nm"] = {
            "reram_default_pJ": reram_pj,
            "digital_45nm_pJ": float(dig["report"]["total_pJ"]),
            "ratio_reram_over_digital": reram_pj / float(dig["report"]["total_pJ"]),
        }
    plots = []
    if not args.no_plots:
        from codesign.sim.reram import plots as P

        for name, sw in results.items():
            path = out_dir / f"reram_sweep_{name}.png"
            P.plot_sweep(sw, golden_acc, f"{args.model}: accuracy vs {name}", path)
            plots.append(str(path))
        e = default["energy"]["per_inference"]
        path = out_dir / "reram_energy.png"
        P.plot_bars(
            ["array", "DAC", "ADC", "digital"],
            [
                1e12 * e["crossbar_read_j"],
                1e12 * e["dac_j"],
                1e12 * e["adc_j"],
                1e12 * (e["shift_add_j"] + e["requant_j"]),
            ],
            f"{args.model}: ReRAM energy per inference (default config)",
            "pJ",
            path,
        )
        plots.append(str(path))
    report["plots"] = plots
    report["runtime_s"] = time.perf_counter() - t0
    report["report_path"] = str(out_dir / "reram.json")
    write_json(out_dir / "reram.json", report)
    _print_summary(report)
    if not ideal["exact"]:
        bad = next(r for r in ideal["layers"] if r["mismatches"])
        print(
            f"codesign: error: ideal crossbar differs from golden at layer '{bad['layer']}' index "
            f"{bad['first']['index']}: golden {bad['first']['golden']} vs reram "
            f"{bad['first']['reram']}",
            file=sys.stderr,
        )
        return 1
    return 0


def _mapping_summary(graph, cfg: CrossbarConfig) -> list[dict]:
    from codesign.sim.reram.mapping import make_encoding

    rows = []
    for lay in graph.layers:
        wmax = int(np.abs(lay.weight).max())
        xmax = max(abs(lay.in_q.lo), abs(lay.in_q.hi))
        w = make_encoding(wmax, cfg.levels - 1, cfg.weight_slicing)
        xe = make_encoding(xmax, cfg.dac_max, cfg.input_slicing)
        rows.append(
            {
                "layer": lay.name,
                "shape": [lay.out_features, lay.in_features],
                "max_abs_weight": wmax,
                "weight_digits": w.n,
                "weight_base": w.base,
                "input_pulses": xe.n,
                "input_base": xe.base,
                "macs": lay.macs,
            }
        )
    return rows


def _print_summary(r: dict) -> None:
    e = r["default"]["energy"]
    print(
        f"reram {r['model']}: {r['n_test']} test inputs, golden accuracy "
        f"{100 * r['golden_accuracy']:.2f} %"
    )
    print(
        f"  ideal crossbar   : accuracy {100 * r['ideal']['accuracy']:.2f} %, "
        f"bit-exact vs golden: {r['ideal']['exact']}"
    )
    print(
        f"  default crossbar : accuracy {100 * r['default']['accuracy']:.2f} %, "
        f"argmax agreement {100 * r['default']['agreement_with_golden']:.2f} %, "
        f"energy {1e9 * e['per_inference']['total_j']:.3f} nJ/inference "
        f"({e['macs_per_inference']} MACs)"
    )
    if "energy_vs_digital_45nm" in r:
        c = r["energy_vs_digital_45nm"]
        print(
            f"  digital 45 nm estimate (codesign energy): {c['digital_45nm_pJ'] / 1e3:.3f} nJ; "
            f"ReRAM / digital = {c['ratio_reram_over_digital']:.2f}"
        )
    for name, sw in r["sweeps"].items():
        pts = ", ".join(f"{p['value']}: {100 * p['accuracy_mean']:.1f}" for p in sw["points"])
        print(f"  sweep {name:14s} {pts}")
    print(f"  report: {r['report_path']} ({r['runtime_s']:.1f} s)")


def _run_lsm(args: argparse.Namespace) -> int:
    from codesign.sim.reram.lsm import LSMConfig, run_lsm
    from codesign.sim.reram.spikes import load_nmnist_folder, saccade_digits

    t0 = time.perf_counter()
    sets = _parse_sets(args.set)
    cfg = LSMConfig(seed=args.seed)
    if args.nmnist_root is not None:
        frames, labels = load_nmnist_folder(args.nmnist_root, "Test", n_bins=30)
        dataset = f"N-MNIST ({args.nmnist_root}, Test split, 16x16 centre crop)"
    else:
        frames, labels = saccade_digits(n_bins=30, seed=args.seed, limit=args.limit)
        dataset = "saccade digits (generated: sklearn digits through an emulated DVS, 3 saccades)"
    if args.limit:
        frames, labels = frames[: args.limit], labels[: args.limit]
    xcfg = CrossbarConfig(dac_bits=2, seed=args.seed).replace(**sets)
    res = run_lsm(frames, labels, cfg, xcfg)
    res["dataset"] = dataset
    res["n_samples"] = int(len(labels))
    res["runtime_s"] = time.perf_counter() - t0
    out_dir = args.build / LSM_MODEL / "reports"
    if not args.no_plots:
        from codesign.sim.reram import plots as P

        path = out_dir / "reram_lsm_accuracy.png"
        P.plot_bars(
            [
                "crossbar\n(stochastic G)",
                "stochastic G\nideal read",
                "software\nreservoir",
                "paper HW\n(N-MNIST)",
            ],
            [
                100 * res["stochastic_crossbar"]["test_accuracy"],
                100 * res["stochastic_ideal_read"]["test_accuracy"],
                100 * res["software_reservoir"]["test_accuracy"],
                100 * res["paper_nmnist"]["hardware_stochastic_reservoir"],
            ],
            "LSM readout test accuracy (ours: generated data)",
            "%",
            path,
        )
        res["plots"] = [str(path)]
    write_json(out_dir / "reram.json", res)
    print(f"reram {LSM_MODEL}: {res['n_samples']} samples of {dataset}")
    for k in ("stochastic_crossbar", "stochastic_ideal_read", "software_reservoir"):
        print(
            f"  {k:24s} test accuracy {100 * res[k]['test_accuracy']:.2f} % "
            f"(mean rate {res[k]['mean_rate']:.3f})"
        )
    print(
        f"  input_only_readout (no reservoir) test accuracy "
        f"{100 * res['input_only_readout']['test_accuracy']:.2f} %"
    )
    print(f"  paper (N-MNIST): hardware {100 * 0.8966:.2f} % vs software {100 * 0.8911:.2f} %")
    print(f"  report: {out_dir / 'reram.json'} ({res['runtime_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
