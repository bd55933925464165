"""PNG charts for the report page (matplotlib, Agg backend, written atomically)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from codesign.atomic import atomic_path  # noqa: E402


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def energy_by_layer(targets: dict[str, dict], path: Path) -> Path | None:
    """Stacked bars: energy per inference by layer (colour) and substrate (bar), log axis.

    Log scale because substrates differ by orders of magnitude; each layer's segment is drawn
    between the cumulative sums, so segment lengths on the log axis are not proportional —
    the right panel gives the per-layer share linearly.
    """
    rows = {t: r for t, r in targets.items() if r.get("total_pJ")}
    if not rows:
        return None
    layers: list[str] = []
    for r in rows.values():
        for lay in r["layers"]:
            if lay["layer"] not in layers:
                layers.append(lay["layer"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    names = list(rows)
    for panel, share in ((ax, False), (ax2, True)):
        bottom = [0.0] * len(names)
        for lay in layers:
            vals = []
            for t in names:
                v = next((x["pJ"] for x in rows[t]["layers"] if x["layer"] == lay), 0.0)
                vals.append(v / rows[t]["total_pJ"] * 100 if share else v)
            panel.bar(names, vals, bottom=bottom, label=lay)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_yscale("log")
    ax.set_ylabel("pJ per inference (log)")
    ax.set_title("energy by substrate, stacked by layer")
    ax2.set_ylabel("% of the substrate's energy")
    ax2.set_title("share by layer")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)


def accuracy_vs_noise(sweeps: dict, path: Path) -> Path | None:
    """ReRAM accuracy against each non-ideality sweep (one panel per parameter)."""
    items = [(k, s) for k, s in sweeps.items() if s.get("points")]
    if not items:
        return None
    n = len(items)
    cols = min(4, n)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3 * cols, 2.4 * nrows), squeeze=False)
    for ax, (k, s) in zip(axes.flat, items, strict=False):
        xs = [p["value"] for p in s["points"]]
        ys = [100 * p["accuracy_mean"] for p in s["points"]]
        es = [100 * p.get("accuracy_std", 0.0) for p in s["points"]]
        ax.errorbar(xs, ys, yerr=es, marker="o", ms=3)
        ax.set_title(k, fontsize=9)
        ax.set_ylabel("accuracy %", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("ReRAM accuracy vs non-ideality (simulated)", fontsize=10)
    return _save(fig, path)


def delay_histogram(hist: dict[str, list[int]], path: Path) -> Path | None:
    """Learned integer synaptic delays per layer (SNN models)."""
    if not hist:
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    for name, counts in hist.items():
        ax.step(range(len(counts)), counts, where="mid", label=name)
    ax.set_xlabel("delay (time steps)")
    ax.set_ylabel("synapses")
    ax.legend(fontsize=8)
    ax.set_title("delay histogram")
    return _save(fig, path)
