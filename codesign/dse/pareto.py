"""Pareto analysis of a sweep table: non-dominated points per objective pair, printed and plotted.

`codesign pareto <sweep>` reads build/sweeps/<sweep>/results.sqlite, writes reports/pareto.json
and one PNG per pair, and marks the recommended configuration (the flows/<model>.yaml values of
the swept axes, or the space's `recommended:`), saying whether it is on the front.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from codesign.atomic import write_json, write_with
from codesign.errors import ArgumentParser, CodesignError

DEFAULT_PAIRS = [
    (("accuracy", "max"), ("energy_pJ", "min")),
    (("accuracy", "max"), ("lut", "min")),
    (("cycles", "min"), ("lut", "min")),
    (("accuracy", "max"), ("cycles", "min")),
    (("cycles", "min"), ("mac_lanes", "min")),
]


def default_pairs(space: dict) -> list:
    """The space's first two objectives (if it has two), then DEFAULT_PAIRS."""
    obj = space.get("objectives") or []
    obj = [tuple(o) for o in (obj.items() if isinstance(obj, dict) else obj)]
    first = [(obj[0], obj[1])] if len(obj) >= 2 else []
    return first + [p for p in DEFAULT_PAIRS if p not in first]


def dominates(a: tuple[float, ...], b: tuple[float, ...], senses: tuple[str, ...]) -> bool:
    """a is no worse than b in every objective and better in at least one."""
    better = False
    for x, y, s in zip(a, b, senses, strict=True):
        if s == "max":
            x, y = -x, -y
        if x > y:
            return False
        better |= x < y
    return better


def pareto_front(values: list[tuple[float, ...]], senses: tuple[str, ...]) -> list[int]:
    """Indices of the non-dominated points (equal points are all kept), in input order."""
    return [
        i
        for i, v in enumerate(values)
        if not any(dominates(w, v, senses) for j, w in enumerate(values) if j != i)
    ]


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def parse_pair(text: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """'accuracy:max,energy_pJ:min' -> (("accuracy", "max"), ("energy_pJ", "min"))."""
    from codesign.dse.stages import METRICS

    parts = text.split(",")
    if len(parts) != 2:
        raise CodesignError(f"--pair '{text}': expected two objectives 'metric:min|max,...'")
    out = []
    for p in parts:
        name, _, sense = p.partition(":")
        sense = sense or "min"
        if name not in METRICS:
            raise CodesignError(f"--pair '{text}': unknown metric '{name}'")
        if sense not in ("min", "max"):
            raise CodesignError(f"--pair '{text}': '{sense}' is not min or max")
        out.append((name, sense))
    return out[0], out[1]


def label(params: dict, axes: list[str]) -> str:
    """Short name of a point from its axis values (foldings as PExSIMD per layer)."""
    bits = []
    for a in axes:
        v = params.get(a)
        short = a.split(".")[-1]
        if isinstance(v, dict):
            v = "/".join(f"{pe}x{simd}" for pe, simd in v.values())
        bits.append(f"{short}={v}")
    return " ".join(bits)


def analyse_pair(
    rows: list[dict], pair: tuple[tuple[str, str], tuple[str, str]], space: dict
) -> dict:
    """The front of one objective pair over the table's ok rows."""
    from codesign.dse.space import _same

    (mx, sx), (my, sy) = pair
    axes = list(space.get("axes", {}))
    rec = {a: v for a, v in space.get("recommended", {}).items() if a in axes}
    pts, reasons = [], {}
    for r in rows:
        x, y = _num(r["metrics"].get(mx)), _num(r["metrics"].get(my))
        if x is None or y is None:
            for m in (mx, my):
                if m in r["unavailable"]:
                    reasons.setdefault(m, r["unavailable"][m])
            continue
        is_rec = bool(rec) and all(_same(r["params"].get(a), v) for a, v in rec.items())
        pts.append(
            {
                "point_id": r["point_id"],
                "label": label(r["params"], axes),
                "params": r["params"],
                mx: x,
                my: y,
                "recommended": is_rec,
            }
        )
    front = pareto_front([(p[mx], p[my]) for p in pts], (sx, sy))
    for i in front:
        pts[i]["on_front"] = True
    rec_pt = next((p for p in pts if p["recommended"]), None)
    rec_info = None
    if rec_pt is not None:
        v = (rec_pt[mx], rec_pt[my])
        rec_info = {
            "point_id": rec_pt["point_id"],
            "label": rec_pt["label"],
            "on_front": bool(rec_pt.get("on_front")),
            "dominated_by": [p["point_id"] for p in pts if dominates((p[mx], p[my]), v, (sx, sy))],
        }
    return {
        "x": {"metric": mx, "sense": sx},
        "y": {"metric": my, "sense": sy},
        "points": len(pts),
        "front": sorted((pts[i] for i in front), key=lambda p: p[mx]),
        "recommended": rec_info,
        "recommended_params": rec,
        "all": pts,
        "missing": None if pts else (reasons or {"reason": "no ok point has both metrics"}),
    }


def plot_pair(res: dict, title: str, path: Path) -> None:
    """Scatter of every point, the front as a step line, the recommended point as a star."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mx, my = res["x"]["metric"], res["y"]["metric"]
    arrow = {"max": "higher is better", "min": "lower is better"}
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.scatter(
        [p[mx] for p in res["all"]],
        [p[my] for p in res["all"]],
        c="0.7",
        s=22,
        label="all points",
    )
    fr = res["front"]
    ax.plot([p[mx] for p in fr], [p[my] for p in fr], "o-", c="tab:blue", ms=6, label="Pareto")
    ties: dict[tuple, list] = {}
    for p in fr:
        ties.setdefault((p[mx], p[my]), []).append(p)
    for (x, y), grp in ties.items():  # one label per distinct point, ties counted
        text = grp[0]["label"] + (f" (+{len(grp) - 1} equal)" if len(grp) > 1 else "")
        ax.annotate(text, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    rec = [p for p in res["all"] if p["recommended"]]
    if rec:
        ax.scatter(
            [rec[0][mx]],
            [rec[0][my]],
            marker="*",
            s=220,
            c="tab:red",
            zorder=5,
            label="recommended (README / flow file)",
        )
    ax.set_xlabel(f"{mx} ({arrow[res['x']['sense']]})")
    ax.set_ylabel(f"{my} ({arrow[res['y']['sense']]})")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    write_with(path, lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)


def resolve_sweep(sweep: str) -> Path:
    """A sweep name under build/sweeps/ or a folder holding results.sqlite."""
    from codesign.dse.execute import sweep_dir

    p = Path(sweep)
    for cand in (p, sweep_dir(sweep)):
        if (cand / "results.sqlite").is_file():
            return cand.resolve()
    raise CodesignError(f"no sweep '{sweep}' (looked for {sweep_dir(sweep)}/results.sqlite)")


def pareto(sweep: str | Path, pairs: list | None = None, plots: bool = True) -> dict:
    """Analyse every pair; writes <sweep>/reports/pareto.json and <sweep>/pareto_<x>_vs_<y>.png."""
    from codesign.dse.store import open_existing

    root = resolve_sweep(str(sweep))
    with open_existing(root / "results.sqlite") as st:
        rows = st.rows("ok")
        space = st.meta("space", {})
        n_failed = len(st.rows("failed"))
    out = {"sweep": space.get("name", root.name), "ok_points": len(rows), "failed": n_failed}
    out["pairs"], out["skipped_pairs"] = [], []
    asked = set(space.get("metrics", []))
    todo = pairs or default_pairs(space)
    for pair in todo:
        absent = [m for m, _ in pair if m not in asked and not any(m in r["metrics"] for r in rows)]
        if not pairs and absent:
            out["skipped_pairs"].append(
                {"pair": [pair[0][0], pair[1][0]], "reason": f"{absent[0]} not measured"}
            )
            continue
        res = analyse_pair(rows, pair, space)
        if res["points"] and plots:
            png = root / f"pareto_{pair[0][0]}_vs_{pair[1][0]}.png"
            plot_pair(res, f"{out['sweep']}: {pair[0][0]} vs {pair[1][0]}", png)
            res["plot"] = str(png)
        out["pairs"].append(res)
    write_json(root / "reports" / "pareto.json", out)
    out["report"] = str(root / "reports" / "pareto.json")
    return out


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def text_report(rep: dict) -> str:
    """The fronts as plain tables (what `codesign pareto` prints)."""
    lines = [f"sweep {rep['sweep']}: {rep['ok_points']} ok points, {rep['failed']} failed"]
    for res in rep["pairs"]:
        mx, my = res["x"]["metric"], res["y"]["metric"]
        head = f"\n{mx} ({res['x']['sense']}) vs {my} ({res['y']['sense']})"
        if not res["points"]:
            why = "; ".join(f"{k}: {v}" for k, v in res["missing"].items())
            lines.append(f"{head}: no data ({why})")
            continue
        lines.append(f"{head}: {len(res['front'])} of {res['points']} points non-dominated")
        groups: dict[tuple, list] = {}  # equal (x, y): one line, the recommended point first
        for p in res["front"]:
            groups.setdefault((p[mx], p[my]), []).append(p)
        for grp in groups.values():
            grp.sort(key=lambda p: not p["recommended"])
            p = grp[0]
            mark = "  <- recommended" if p["recommended"] else ""
            more = f"  (+{len(grp) - 1} equal)" if len(grp) > 1 else ""
            lines.append(
                f"  {p['point_id']}  {mx}={_fmt(p[mx]):>9}  {my}={_fmt(p[my]):>9}  "
                f"{p['label']}{mark}{more}"
            )
        rec = res["recommended"]
        if rec is None:
            lines.append("  recommended configuration: not among these points")
        elif not rec["on_front"]:
            lines.append(
                f"  recommended {rec['point_id']} ({rec['label']}) is dominated by "
                f"{len(rec['dominated_by'])} point(s)"
            )
        if res.get("plot"):
            lines.append(f"  plot: {res['plot']}")
    for sk in rep.get("skipped_pairs", []):
        lines.append(
            f"\n{sk['pair'][0]} vs {sk['pair'][1]}: skipped ({sk['reason']} in this sweep)"
        )
    lines.append(f"\nreport: {rep['report']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`codesign pareto <sweep>`: print and plot the non-dominated points of a sweep."""
    ap = ArgumentParser(prog="codesign pareto", description=main.__doc__)
    ap.add_argument("sweep", help="sweep name (build/sweeps/<name>) or its folder")
    ap.add_argument(
        "--pair",
        action="append",
        default=[],
        help="objective pair 'metric:max,metric:min' (repeatable; default: accuracy vs "
        "energy_pJ, accuracy vs lut, cycles vs lut, accuracy vs cycles, cycles vs mac_lanes)",
    )
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the JSON report instead")
    a = ap.parse_args(argv)
    try:
        pairs = [parse_pair(p) for p in a.pair] or None
        rep = pareto(a.sweep, pairs, plots=not a.no_plots)
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(rep, indent=2) if a.json else text_report(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
