"""`codesign compare <model>`: one row per backend (own RTL, hls4ml, FINN) from their reports.

Numbers are read from build/<model>/reports/*.json, never recomputed: mismatches against the
golden model, cycles per inference (simulated or estimated, the row says which) and
LUT/FF/DSP/BRAM with their source (Yosys, FINN estimate, or none). A backend whose report is
missing says "not run". Writes reports/compare.json and compare.png.
"""

from __future__ import annotations

import sys

from codesign import paths
from codesign.atomic import write_json, write_with
from codesign.errors import ArgumentParser
from codesign.hls import common

RESOURCES = ("LUT", "FF", "DSP", "BRAM")


def _get(d: dict, *keys):
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def own_rtl_row(rep: dict, synth: dict) -> dict:
    row = {"backend": "own RTL", "status": "not run" if not rep else "ok"}
    row["mismatches"] = rep.get("mismatches") if rep else None
    cyc = rep.get("cycles_per_inference") if rep else None
    row["cycles_per_inference"] = cyc
    row["cycles_source"] = "simulated (Verilator)" if cyc is not None else "not run"
    res = synth.get("resources", synth) if synth else {}
    for r in RESOURCES:
        row[r] = _get(res, r, r.lower(), f"{r}s")
    row["resources_source"] = "Yosys synth_xilinx (xc7)" if synth else "not run"
    return row


def hls4ml_row(rep: dict) -> dict:
    row = {"backend": "hls4ml", "status": "not run" if not rep else "ok"}
    row["mismatches"] = rep.get("mismatches") if rep else None
    row["io_types"] = sorted(rep.get("io", {})) if rep else []
    row["cycles_per_inference"] = None
    vendor = [r["vendor_synthesis"]["status"] for r in rep.get("io", {}).values()] if rep else []
    row["cycles_source"] = (
        "none: needs Vitis HLS synthesis (not on PATH)"
        if rep and "ok" not in vendor
        else "not run"
        if not rep
        else "see the Vitis HLS report"
    )
    for r in RESOURCES:
        row[r] = None
    row["resources_source"] = "none without vendor tools" if rep else "not run"
    return row


def finn_row(rep: dict) -> dict:
    row = {"backend": "FINN", "status": "not run" if not rep else "ok"}
    row["mismatches"] = rep.get("mismatches") if rep and rep.get("layers_simulated") else None
    row["layers_simulated"] = len(rep.get("layers_simulated", [])) if rep else 0
    row["layers_total"] = len(rep.get("layers", {})) if rep else 0
    row["cycles_per_inference"] = rep.get("cycles_per_inference_estimate") if rep else None
    row["cycles_source"] = "estimated (FINN, max layer cycles)" if rep else "not run"
    tot = rep.get("estimate_totals", {}) if rep else {}
    row.update({"LUT": tot.get("LUT"), "FF": None, "DSP": tot.get("DSP")})
    row["BRAM"] = tot.get("BRAM_18K")
    row["resources_source"] = (
        "FINN estimate (MVAU_rtl LUT estimate is 0 in FINN; FF not estimated); Yosys on "
        "FINN's RTL: not run (Yosys 0.23 cannot parse FINN's SystemVerilog)"
        if rep
        else "not run"
    )
    return row


def rows(model: str) -> list[dict]:
    rd = paths.reports_dir(model)
    return [
        own_rtl_row(common.read_json(rd / "rtl_sim.json"), common.read_json(rd / "synth_xc7.json")),
        hls4ml_row(common.read_json(rd / "hls4ml.json")),
        finn_row(common.read_json(rd / "finn.json")),
    ]


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if isinstance(v, float) else str(v)


def table(rs: list[dict]) -> str:
    head = f"{'backend':<10}{'mismatches':>11}{'cycles/inf':>11}" + "".join(
        f"{r:>7}" for r in RESOURCES
    )
    lines = [head]
    for r in rs:
        mm = "not run" if r["status"] == "not run" else _fmt(r["mismatches"])
        lines.append(
            f"{r['backend']:<10}{mm:>11}{_fmt(r['cycles_per_inference']):>11}"
            + "".join(f"{_fmt(r[k]):>7}" for k in RESOURCES)
        )
    lines.append("")
    for r in rs:
        lines.append(
            f"{r['backend']}: cycles {r['cycles_source']}; resources {r['resources_source']}"
        )
    return "\n".join(lines)


def plot(rs: list[dict], path) -> None:
    """Grouped bars: resources and cycles per backend (missing values are left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    metrics = [*RESOURCES, "cycles_per_inference"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(rs)
    handles = []
    for i, r in enumerate(rs):
        xs = [j + i * width for j, m in enumerate(metrics) if r.get(m) is not None]
        ys = [float(r[m]) for m in metrics if r.get(m) is not None]
        mm = "not run" if r["status"] == "not run" else _fmt(r["mismatches"])
        color = ("tab:blue", "tab:orange", "tab:green")[i % 3]
        ax.bar(xs, ys, width, color=color)
        handles.append(Patch(color=color, label=f"{r['backend']} (mismatches: {mm})"))
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))])
    ax.set_xticklabels(["LUT", "FF", "DSP", "BRAM", "cycles/inference"])
    ax.set_yscale("symlog")
    ax.set_title("backends side by side (missing bar = not available)")
    ax.legend(handles=handles, fontsize=8)
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def run(model: str) -> dict:
    rs = rows(model)
    rd = paths.reports_dir(model)
    report = {"model": model, "rows": rs, "png": str(rd / "compare.png")}
    plot(rs, rd / "compare.png")
    write_json(rd / "compare.json", report)
    return report


def main(argv: list[str]) -> int:
    """codesign compare <model>"""
    p = ArgumentParser(prog="codesign compare", description=__doc__.splitlines()[0])
    p.add_argument("model")
    args = p.parse_args(argv)
    from codesign.models import zoo

    zoo.module(args.model)
    report = run(args.model)
    print(table(report["rows"]))
    print(f"wrote {paths.reports_dir(args.model) / 'compare.json'} and compare.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
