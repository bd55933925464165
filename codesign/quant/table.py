"""`codesign quantizers <model>`: one table comparing the quantizer variants at several bit widths.

Each (variant, bits) point is trained, exported, checked golden vs PyTorch, simulated as RTL vs
golden, synthesised with Yosys (xc7 LUT/FF) and priced by `codesign energy`, through the design-
space sweep machinery (codesign.dse: Dask, one build folder per point, resumable). The table goes
to build/<model>/reports/quantizers.{json,md,png}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codesign.errors import CodesignError

COLUMNS = [
    ("accuracy", "accuracy %"),
    ("golden_mismatches", "golden vs PyTorch"),
    ("rtl_mismatches", "RTL vs golden"),
    ("weight_memory_bits", "weight bits"),
    ("lut", "LUT"),
    ("ff", "FF"),
    ("dsp", "DSP"),
    ("energy_pJ", "energy pJ"),
]


def rows_from_sweep(sweep_dir: str | Path) -> list[dict]:
    """One row per point: variant, bits, metrics, and why a metric is missing."""
    from codesign.dse.store import Store

    rows = []
    with Store(Path(sweep_dir) / "results.sqlite") as st:
        for r in st.rows():
            p = r["params"]
            rows.append(
                {
                    "variant": p.get("quant.variant"),
                    "bits": p.get("quant.bits"),
                    "status": r["status"],
                    **{k: r["metrics"].get(k) for k, _ in COLUMNS},
                    "accuracy_float": r["metrics"].get("accuracy_float"),
                    "cycles": r["metrics"].get("cycles"),
                    "unavailable": {
                        k: r["unavailable"][k] for k, _ in COLUMNS if k in r["unavailable"]
                    },
                }
            )
    order = {v: i for i, v in enumerate(_variants())}
    return sorted(rows, key=lambda r: (order.get(r["variant"], 99), r["bits"] or 0))


def _variants() -> list[str]:
    from codesign.quant.variants import VARIANTS

    return list(VARIANTS)


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if v is None:
        return "n/a"
    if key == "accuracy":
        return f"{100 * v:.2f}"
    if key == "energy_pJ":
        return f"{v:.1f}"
    return f"{v:,}" if isinstance(v, int) else f"{v}"


def markdown(rows: list[dict]) -> str:
    from codesign.quant.variants import LABELS

    head = "| variant | bits | " + " | ".join(h for _, h in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for r in rows:
        cells = " | ".join(_cell(r, k) for k, _ in COLUMNS)
        lines.append(f"| {LABELS.get(r['variant'], r['variant'])} | {r['bits']} | {cells} |")
    notes = sorted({f"{k}: {why}" for r in rows for k, why in r["unavailable"].items()})
    if notes:
        lines += ["", "n/a:", *[f"- {n}" for n in notes[:8]]]
    return "\n".join(lines)


def goals(rows: list[dict]) -> dict:
    """The issue's goal figures, read from the rows (None when a number is missing)."""

    def acc(variant: str, bits: int) -> float | None:
        for r in rows:
            if r["variant"] == variant and r["bits"] == bits:
                return r["accuracy"]
        return None

    a, u = acc("asq_post", 3), acc("uniform", 3)
    exact = [
        r for r in rows if r["golden_mismatches"] is not None and r["rtl_mismatches"] is not None
    ]
    return {
        "asq_post_3bit_accuracy": a,
        "uniform_3bit_accuracy": u,
        "asq_post_beats_uniform_at_3_bits": None if a is None or u is None else a > u,
        "points_bit_exact": sum(
            1 for r in exact if r["golden_mismatches"] == 0 and r["rtl_mismatches"] == 0
        ),
        "points_checked_end_to_end": len(exact),
        "points": len(rows),
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from codesign.quant.variants import LABELS

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for key, ax, label, scale in (
        ("accuracy", axes[0], "test accuracy (%)", 100.0),
        ("energy_pJ", axes[1], "energy / inference, 45 nm (pJ)", 1.0),
        ("lut", axes[2], "xc7 LUTs (Yosys)", 1.0),
    ):
        for v in _variants():
            pts = [(r["bits"], r[key] * scale) for r in rows if r["variant"] == v and r[key]]
            if pts:
                xs, ys = zip(*sorted(pts), strict=True)
                ax.plot(xs, ys, "o-", label=LABELS.get(v, v))
        ax.set_xlabel("bits (weights and hidden activations)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("quantizer variants on digits_mlp")
    fig.tight_layout()
    from codesign.atomic import write_with

    write_with(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="codesign quantizers", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="zoo model name (digits_mlp)")
    ap.add_argument("--space", help="sweep space YAML (default flows/<model>.quantizers.yaml)")
    ap.add_argument("--variants", help="comma list, e.g. uniform,asq_post (default: the space's)")
    ap.add_argument("--bits", help="comma list, e.g. 3 or 2,3,4 (default: the space's)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fixed parameter for every point, e.g. train.qat_epochs=5",
    )
    ap.add_argument("--workers", type=int, help="local Dask workers (default: all cores)")
    ap.add_argument("--scheduler", help="address of an existing Dask scheduler")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap


def _parse_set(items: list[str]) -> dict:
    import yaml

    out = {}
    for it in items:
        k, eq, v = it.partition("=")
        if not eq or not k:
            raise CodesignError(f"--set expects KEY=VALUE, got '{it}'")
        out[k.strip()] = yaml.safe_load(v)
    return out


def main(argv: list[str]) -> int:
    """Exit 0 with a table, 1 if some point failed, 2 on bad input."""
    a = build_parser().parse_args(argv)
    try:
        import yaml

        from codesign import paths
        from codesign.atomic import write_json, write_with
        from codesign.dse.execute import run_sweep
        from codesign.dse.space import parse_space

        src = Path(a.space) if a.space else paths.FLOWS_DIR / f"{a.model}.quantizers.yaml"
        if not src.is_file():
            raise CodesignError(f"no quantizer space for '{a.model}': {src} does not exist")
        doc = yaml.safe_load(src.read_text())
        if a.variants:
            doc["axes"]["quant.variant"] = [v.strip() for v in a.variants.split(",") if v.strip()]
        if a.bits:
            try:
                doc["axes"]["quant.bits"] = [int(b) for b in a.bits.split(",")]
            except ValueError:
                raise CodesignError(f"--bits expects integers, got '{a.bits}'") from None
        doc["fixed"] = {**(doc.get("fixed") or {}), **_parse_set(a.set)}
        space = parse_space(doc, str(src), a.model)
        if a.workers is not None and a.workers < 1:
            raise CodesignError(f"--workers must be >= 1, got {a.workers}")
        stats = run_sweep(space, a.scheduler, a.workers, bar=not a.no_progress)
        wanted = {(p["quant.variant"], p["quant.bits"]) for p in space.points()}
        rows = [
            r for r in rows_from_sweep(stats["sweep_dir"]) if (r["variant"], r["bits"]) in wanted
        ]
        rep_dir = paths.reports_dir(a.model)
        report = {
            "model": a.model,
            "space": str(src),
            "sweep_dir": stats["sweep_dir"],
            "seconds": stats["seconds"],
            "columns": dict(COLUMNS),
            "rows": rows,
            "goals": goals(rows),
        }
        write_json(rep_dir / "quantizers.json", report)
        md = markdown(rows)
        write_with(rep_dir / "quantizers.md", lambda p: p.write_text(md + "\n"))
        plot(rows, rep_dir / "quantizers.png")
        print(md)
        print(f"\nreports: {rep_dir / 'quantizers.json'}, quantizers.md, quantizers.png")
        return 1 if any(r["status"] != "ok" for r in rows) else 0
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
