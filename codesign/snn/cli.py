"""`codesign snn <step> <model> [options]`: the spiking flows with options the generic
`codesign <verb> <model>` has no room for (an SHD file, quick settings, sample counts).

    codesign snn train shd_delays --data PATH/shd_train.h5
    codesign snn all delay_snn --epochs 4 --train-samples 256 --sim-samples 4
"""

from __future__ import annotations

import argparse
import json
import sys

from codesign.errors import ArgumentParser, CodesignError, at_least

STEPS = ("train", "export", "golden", "rtl", "sim", "synth", "all")


def _overrides(args: argparse.Namespace) -> dict:
    o: dict = {}
    if args.data:
        steps = 100 if args.steps is None else args.steps  # 0 or below: refused by the loader
        o["data"] = {"task": "shd", "path": args.data, "steps": steps}
    elif args.model == "shd_delays":
        raise CodesignError("shd_delays needs the SHD HDF5 file: --data PATH")
    if args.train_samples:
        o.setdefault("data", {})["n_train"] = args.train_samples
    if args.epochs:
        e = args.epochs
        o["train"] = {"epochs": e, "baseline_epochs": e, "qat_epochs": max(1, e // 4)}
    return o


def main(argv: list[str]) -> int:
    p = ArgumentParser(prog="codesign snn", description=__doc__.split("\n")[0])
    p.add_argument("step", choices=STEPS)
    p.add_argument("model", help="delay_snn, hd_snn or shd_delays (delay_snn on an SHD file)")
    p.add_argument("--data", help="SHD HDF5 file (spikes/times, spikes/units, labels)")
    p.add_argument("--steps", type=at_least(1), help="time bins for SHD (default 100)")
    p.add_argument("--epochs", type=at_least(0), help="training epochs (quick runs)")
    p.add_argument("--train-samples", type=at_least(1), help="training set size (generated tasks)")
    p.add_argument("--sim-samples", type=at_least(0), help="test samples for the RTL run (0 = all)")
    p.add_argument("--no-membranes", action="store_true", help="compare spikes only in sim")
    args = p.parse_args(argv)
    from codesign.snn import flow

    try:
        out = {}
        if args.step in ("train", "all"):
            out["train"] = flow.train(args.model, _overrides(args))
        if args.step in ("export", "all"):
            out["export"] = flow.export(args.model)
        if args.step in ("golden", "all"):
            out["golden"] = flow.golden(args.model)
        if args.step in ("rtl", "all"):
            out["rtl"] = flow.rtl(args.model)
        if args.step in ("sim", "all"):
            out["sim"] = flow.sim(args.model, args.sim_samples, not args.no_membranes)
        if args.step == "synth":
            out["synth"] = flow.synth(args.model)
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
