"""`codesign quantizers <model>`: one table comparing the quantizer variants at several bit widths.

Each (variant, bits) point is trained, exported, checked golden vs PyTorch, simulated as RTL vs
golden, synthesised with Yosys (xc7 LUT/FF) and priced by `codesign energy`, through the design-
space sweep machinery (codesign.dse: Dask, one build folder per point, resumable). The table goes
to build/<model>/reports/quantizers.{json,md,png}. A zoo module may label its own table
(`QUANTIZER_TABLE`: metric name, what `bits` means, variants it cannot run and why; those rows
are reported as n/a with the reason, never run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codesign.errors import ArgumentParser, CodesignError, at_least

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
TABLE_DEFAULTS = {
    "metric": "accuracy %",
    "metric_plot": "test accuracy (%)",
    "bits": None,  # a note under the table saying what `bits` counts (None: no note)
    "plot_bits": "bits (weights and hidden activations)",
    "unsupported": {},  # variant -> why the model cannot run it
    "labels": {},  # variant -> row label, where variants.LABELS does not fit the model
}


def table_info(model: str) -> dict:
    """TABLE_DEFAULTS updated with the zoo module's QUANTIZER_TABLE."""
    from codesign.models import zoo

    return {**TABLE_DEFAULTS, **getattr(zoo.module(model), "QUANTIZER_TABLE", {})}


def columns(info: dict | None = None) -> list[tuple[str, str]]:
    """COLUMNS with the model's name for `accuracy` (e.g. AP50 %)."""
    label = (info or TABLE_DEFAULTS)["metric"]
    return [(k, label if k == "accuracy" else h) for k, h in COLUMNS]


def unsupported_rows(variants: list[str], info: dict) -> list[dict]:
    """One n/a row per variant the model cannot run (every bit width), with the reason."""
    return [
        {
            "variant": v,
            "bits": None,
            "status": "n/a",
            **dict.fromkeys((k for k, _ in COLUMNS), None),
            "accuracy_float": None,
            "cycles": None,
            "unavailable": {},
            "na_reason": info["unsupported"][v],
        }
        for v in variants
        if v in info["unsupported"]
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


def _labels(info: dict) -> dict[str, str]:
    from codesign.quant.variants import LABELS

    return {**LABELS, **info.get("labels", {})}


def markdown(rows: list[dict], info: dict | None = None) -> str:
    info = info or TABLE_DEFAULTS
    labels = _labels(info)
    cols = columns(info)
    head = "| variant | bits | " + " | ".join(h for _, h in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        cells = " | ".join(_cell(r, k) for k, _ in cols)
        bits = "all" if r.get("na_reason") else r["bits"]
        lines.append(f"| {labels.get(r['variant'], r['variant'])} | {bits} | {cells} |")
    if info.get("bits"):
        lines += ["", f"bits: {info['bits']}."]
    notes = sorted({f"{k}: {why}" for r in rows for k, why in r["unavailable"].items()})
    na = [r for r in rows if r.get("na_reason")]
    if notes or na:
        lines += ["", "n/a:"]
        lines += [f"- {labels.get(r['variant'], r['variant'])}: {r['na_reason']}" for r in na]
        lines += [f"- {n}" for n in notes[:8]]
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
        "points": sum(1 for r in rows if r["status"] != "n/a"),
    }


def plot(rows: list[dict], path: Path, model: str = "digits_mlp", info: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = info or TABLE_DEFAULTS
    labels = _labels(info)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for key, ax, label, scale in (
        ("accuracy", axes[0], info["metric_plot"], 100.0),
        ("energy_pJ", axes[1], "energy / inference, 45 nm (pJ)", 1.0),
        ("lut", axes[2], "xc7 LUTs (Yosys)", 1.0),
    ):
        for v in _variants():
            pts = [
                (r["bits"], r[key] * scale)
                for r in rows
                if r["variant"] == v and r[key] is not None
            ]
            if pts:
                xs, ys = zip(*sorted(pts), strict=True)
                ax.plot(xs, ys, "o-", label=labels.get(v, v))
        ax.set_xlabel(info["plot_bits"], fontsize=8 if len(info["plot_bits"]) > 40 else None)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"quantizer variants on {model}")
    fig.tight_layout()
    from codesign.atomic import write_with

    write_with(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    ap = ArgumentParser(prog="codesign quantizers", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="zoo model name (digits_mlp, codenet_tiny)")
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
    ap.add_argument("--workers", type=at_least(1), help="local Dask workers (default: all cores)")
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
        info = table_info(a.model)
        asked = doc["axes"].get("quant.variant") or []
        na = asked if a.variants else [*asked, *info["unsupported"]]  # n/a rows, never run
        doc["axes"]["quant.variant"] = [v for v in asked if v not in info["unsupported"]]
        if a.workers is not None and a.workers < 1:
            raise CodesignError(f"--workers must be >= 1, got {a.workers}")
        rows, stats = [], {"sweep_dir": None, "seconds": 0.0}
        if doc["axes"]["quant.variant"]:
            space = parse_space(doc, str(src), a.model)
            stats = run_sweep(space, a.scheduler, a.workers, bar=not a.no_progress)
            wanted = {(p["quant.variant"], p["quant.bits"]) for p in space.points()}
            rows = [
                r
                for r in rows_from_sweep(stats["sweep_dir"])
                if (r["variant"], r["bits"]) in wanted
            ]
        rows += unsupported_rows(list(dict.fromkeys(na)), info)
        rep_dir = paths.reports_dir(a.model)
        report = {
            "model": a.model,
            "space": str(src),
            "sweep_dir": stats["sweep_dir"],
            "seconds": stats["seconds"],
            "columns": dict(columns(info)),
            **({"bits": info["bits"]} if info["bits"] else {}),
            "rows": rows,
            "goals": goals(rows),
        }
        write_json(rep_dir / "quantizers.json", report)
        md = markdown(rows, info)
        write_with(rep_dir / "quantizers.md", lambda p: p.write_text(md + "\n"))
        plot(rows, rep_dir / "quantizers.png", a.model, info)
        print(md)
        print(f"\nreports: {rep_dir / 'quantizers.json'}, quantizers.md, quantizers.png")
        return 1 if any(r["status"] not in ("ok", "n/a") for r in rows) else 0
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
