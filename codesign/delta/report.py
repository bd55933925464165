"""The θ sweep as a PNG and the CLI's summary table, both made from reports/delta.json rows."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from codesign.atomic import atomic_path  # noqa: E402


def plot_sweep(rows: list[dict], chosen: int, path: str | Path) -> Path:
    """Left: test / validation accuracy against θ. Right: zero deltas and MAC reduction."""
    path = Path(path)
    th = [r["threshold"] for r in rows]
    dense = next(r for r in rows if r["threshold"] == 0)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax.plot(th, [100 * r["accuracy"] for r in rows], "o-", label="test")
    if all(r.get("accuracy_val") is not None for r in rows):
        ax.plot(th, [100 * r["accuracy_val"] for r in rows], "s--", alpha=0.7, label="validation")
    ax.axhline(100 * dense["accuracy"] - 1, color="tab:red", ls=":", lw=1, label="test θ=0 − 1 pt")
    ax.set_xlabel("threshold θ (activation codes)")
    ax.set_ylabel("accuracy (%)")
    ax.legend(fontsize=8)
    bx.plot(th, [100 * r["sparsity"] for r in rows], "s-", color="tab:orange")
    bx.set_xlabel("threshold θ (activation codes)")
    bx.set_ylabel("zero deltas (%)", color="tab:orange")
    bx2 = bx.twinx()
    bx2.plot(th, [r["mac_reduction"] for r in rows], "^--", color="tab:green")
    bx2.axhline(2.0, color="tab:green", ls=":", lw=1)
    bx2.set_ylabel("consumer MAC reduction (x)", color="tab:green")
    for a in (ax, bx):
        a.axvline(chosen, color="grey", lw=1, ls="--")
    fig.suptitle(
        f"delta activations: accuracy and temporal sparsity against θ (chosen θ = {chosen})"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def summary(r: dict) -> str:
    """Human-readable table of a delta.json report."""
    rows = [
        ("sequences (test) x steps", f"{r['samples']} x {r['steps']}"),
        ("threshold θ", f"{r['threshold']}"),
        ("accuracy dense (θ = 0)", f"{100 * r['accuracy_dense']:.2f} %"),
        ("accuracy delta", f"{100 * r['accuracy_delta']:.2f} %"),
        (
            "zero deltas dense / delta",
            f"{100 * r['sparsity_dense']:.1f} % / {100 * r['sparsity']:.1f} %",
        ),
        ("consumer MACs dense / delta", f"{r['macs_dense']} / {r['macs_delta']:.0f} per sequence"),
        ("consumer MAC reduction", f"{r['mac_reduction']:.2f}x"),
        ("front / readout MACs", f"{r['macs_front']} / {r['macs_readout']} per sequence"),
        ("whole-network MAC reduction", f"{r['mac_reduction_network']:.2f}x (front stays dense)"),
        ("golden vs PyTorch mismatches", f"{r['mismatches']} (every θ, layer and step)"),
    ]
    if r.get("rtl_mismatches") is not None:
        c = r["rtl"][f"theta_{r['threshold']}"]["cycles"]
        c0 = r["rtl"]["theta_0"]["cycles"]
        rows += [
            (
                "RTL vs golden mismatches",
                f"{r['rtl_mismatches']} over {r['sim_samples']} sequences",
            ),
            (
                "RTL cycles / frame",
                f"{c['cycles_per_frame']:.1f} at {c['events_per_frame']:.1f} events "
                f"(θ = 0: {c0['cycles_per_frame']:.1f} at {c0['events_per_frame']:.1f}; "
                f"dense consumer, same PE: {c['dense_consumer_cycles_per_frame']})",
            ),
            (
                "RTL cycles vs events (fit)",
                f"{c['fit_cycles_intercept']:.1f} + {c['fit_cycles_per_event']:.2f} x events "
                f"(r = {c['fit_correlation']:.3f}; {c['cycles_per_event_ideal']} per event ideal)",
            ),
        ]
    rows.append(("goal (>= 2x, <= 1 point)", "met" if r["goal_met"] else "NOT met"))
    return "\n".join(f"{k:<30} {v}" for k, v in rows)
