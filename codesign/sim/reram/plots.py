"""PNG plots drawn from the JSON report's numbers (never recomputed here)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from codesign.atomic import write_with  # noqa: E402

LOG_X = {"t_inference_s", "p_stuck", "r_wire_ohm"}
UNITS = {
    "prog_noise": "x aihwkit PCM programming noise",
    "read_noise": "x aihwkit 1/f read noise",
    "t_inference_s": "time since programming (s)",
    "adc_bits": "ADC bits",
    "p_stuck": "stuck-at rate (on+off)",
    "d2d_sigma": "device-to-device sigma (relative)",
    "r_wire_ohm": "wire resistance per cell (Ohm)",
}


def _save(fig: plt.Figure, path: Path) -> None:
    write_with(path, lambda p: fig.savefig(p, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)


def plot_sweep(sweep: dict, golden_acc: float, title: str, path: Path) -> None:
    """Accuracy (mean +- std over seeds) vs the swept knob, golden accuracy as a line."""
    name = sweep["parameter"]
    pts = sweep["points"]
    xs = [float(p["value"]) for p in pts]
    ys = [100 * p["accuracy_mean"] for p in pts]
    es = [100 * p["accuracy_std"] for p in pts]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    if name in LOG_X and any(x > 0 for x in xs):
        pos = min(x for x in xs if x > 0)
        xs = [x if x > 0 else pos / 10 for x in xs]
        ax.set_xscale("log")
    ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label="ReRAM crossbar")
    ax.axhline(100 * golden_acc, color="k", ls="--", lw=1, label="golden (integer)")
    ax.set_xlabel(UNITS.get(name, name))
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_bars(labels: list[str], values: list[float], title: str, ylabel: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.bar(labels, values, color=["tab:blue", "tab:orange", "tab:green", "tab:red"][: len(labels)])
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    _save(fig, path)
