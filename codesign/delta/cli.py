"""`codesign delta [--threshold θ] [--sim-samples N]` (also `python -m codesign.delta.cli`)."""

from __future__ import annotations

import argparse
import sys

from codesign.errors import ArgumentParser, CodesignError, at_least


def _nonneg_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(
        prog="codesign delta",
        description="delta activations on the aperture-digits sequence task: train (or reuse), "
        "θ sweep, golden vs PyTorch, RTL (Verilator) vs golden; build/delta_seq/reports/",
    )
    ap.add_argument(
        "--threshold",
        type=_nonneg_int,
        default=None,
        help="θ in activation codes (default: the best within 1 point of θ = 0)",
    )
    ap.add_argument(
        "--sim-samples",
        type=_nonneg_int,
        default=36,
        help="test sequences simulated under Verilator (0: skip the RTL)",
    )
    ap.add_argument(
        "--thresholds",
        type=lambda s: [_nonneg_int(v) for v in s.split(",") if v.strip()],
        default=None,
        help="θ values of the sweep, comma separated (default: the flow's list)",
    )
    ap.add_argument("--pe", type=at_least(1), default=4, help="consumer outputs per cycle")
    ap.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"])
    ap.add_argument("--retrain", action="store_true", help="ignore build/delta_seq/checkpoint.pt")
    args = ap.parse_args(argv)
    try:
        from codesign.delta.flow import run
        from codesign.delta.report import summary

        r = run(
            args.threshold,
            args.sim_samples,
            args.pe,
            args.simulator,
            args.retrain,
            thresholds=args.thresholds,
        )
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2
    print(summary(r))
    return 0 if r["mismatches"] == 0 and not r.get("rtl_mismatches") else 1


if __name__ == "__main__":
    sys.exit(main())
