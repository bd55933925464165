"""Bias-margin and jitter sweeps: over which global bias (and jitter) does a network stay right?

A run is *correct* when every sample's decision equals the reference decision (XOR: output
count >= n/2 is logic 1; a classifier: argmax of the last layer). The bias margin is the
contiguous range of bias scales around 1.0 where every grid point is correct, in percent.
What changes with bias is set by the behavioural models in cells.py (bias window, delay) and
neuro.py (thresholds, weights); they are assumptions, not circuit-level (JoSIM) results.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from codesign.atomic import write_with
from codesign.sim.sfq.engine import Compiled
from codesign.sim.sfq.mapping import SFQModel

Decide = Callable[[np.ndarray], np.ndarray]


def xor_decide(n: int) -> Decide:
    return lambda out: (out[:, 0] * 2 >= n).astype(np.int64)


def argmax_decide(out: np.ndarray) -> np.ndarray:
    return np.argmax(out, axis=1)


def fraction_correct(
    model: SFQModel,
    x: np.ndarray,
    ref: np.ndarray,
    decide: Decide,
    bias: float = 1.0,
    jitter_ps: float = 0.0,
    seed: int = 0,
    max_pulses: int | None = None,
) -> tuple[float, int]:
    """(fraction of samples decided as `ref`, timing violations seen) at one operating point.

    A run stopped by `max_pulses` (runaway pulse multiplication of free-running cells) counts
    as a wrong decision.
    """
    comp = Compiled(model.netlist, bias=bias, seed=seed)
    ok = []
    viol = 0
    last = model.graph.layers[-1].name
    for b in range(len(x)):
        res = comp.run(
            model.stimuli(x[b]),
            jitter_ps=jitter_ps,
            seed=seed * 100003 + b,
            max_pulses=max_pulses,
        )
        dec = decide(model.decode(res)[last][None, :])[0]
        ok.append(bool(dec == ref[b]) and not res.truncated)
        viol += len(res.violations)
    return float(np.mean(ok)), viol


def pulse_budget(model: SFQModel, x: np.ndarray, factor: int = 10) -> int:
    """`factor` times the most pulses any sample creates at nominal bias."""
    comp = Compiled(model.netlist)
    most = max(comp.run(model.stimuli(xb)).events for xb in x)
    return factor * max(most, 1000)


def bias_sweep(
    model: SFQModel, x: np.ndarray, ref: np.ndarray, decide: Decide, betas: np.ndarray
) -> list[dict]:
    rows = []
    budget = pulse_budget(model, x)
    for b in betas:
        fr, viol = fraction_correct(model, x, ref, decide, bias=float(b), max_pulses=budget)
        rows.append({"bias": float(round(b, 4)), "fraction_correct": fr, "violations": viol})
    return rows


def margin(sweep: list[dict], need: float = 1.0) -> dict:
    """Contiguous range around bias 1.0 where >= `need` of the decisions are right (percent)."""
    bs = [r["bias"] for r in sweep]
    ok = [r["fraction_correct"] >= need for r in sweep]
    i0 = int(np.argmin(np.abs(np.array(bs) - 1.0)))
    if not ok[i0]:
        return {"lo": None, "hi": None, "minus_pct": 0.0, "plus_pct": 0.0, "nominal_ok": False}
    lo = hi = i0
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < len(bs) - 1 and ok[hi + 1]:
        hi += 1
    return {
        "lo": bs[lo],
        "hi": bs[hi],
        "minus_pct": round((1.0 - bs[lo]) * 100, 2),
        "plus_pct": round((bs[hi] - 1.0) * 100, 2),
        "nominal_ok": True,
        "limited_by_grid": lo == 0 or hi == len(bs) - 1,
    }


def jitter_sweep(
    model: SFQModel,
    x: np.ndarray,
    ref: np.ndarray,
    decide: Decide,
    sigmas: list[float],
    trials: int = 3,
) -> list[dict]:
    rows = []
    for s in sigmas:
        runs = [
            fraction_correct(model, x, ref, decide, jitter_ps=s, seed=t + 1)
            for t in range(trials if s > 0 else 1)
        ]
        fr = [r[0] for r in runs]
        rows.append(
            {
                "jitter_ps": s,
                "fraction_correct": float(np.mean(fr)),
                "worst": float(np.min(fr)),
                "trials": len(fr),
                "violations_per_trial": float(np.mean([r[1] for r in runs])),
            }
        )
    return rows


def plot(curves: dict[str, dict], path: str | Path) -> None:
    """PNG: fraction correct vs bias (left) and vs jitter (right) for each network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, cv in curves.items():
        b = [r["bias"] for r in cv["bias_sweep"]]
        f = [r["fraction_correct"] for r in cv["bias_sweep"]]
        m = cv["margin"]
        lab = f"{name} (-{m['minus_pct']:.0f}% / +{m['plus_pct']:.0f}%)"
        a1.plot(b, f, marker=".", label=lab)
        if cv.get("jitter_sweep"):
            s = [r["jitter_ps"] for r in cv["jitter_sweep"]]
            j = [r["fraction_correct"] for r in cv["jitter_sweep"]]
            a2.plot(s, j, marker="o", label=name)
    a1.axvline(1.0, color="grey", lw=0.5)
    a1.set_xlabel("global bias scale")
    a1.set_ylabel("fraction of decisions correct")
    a1.set_title("bias margin")
    a1.legend(fontsize=8)
    a1.set_ylim(-0.03, 1.05)
    a2.set_ylim(-0.03, 1.05)
    a2.set_xlabel("per-pulse delay jitter sigma (ps)")
    a2.set_title("timing jitter")
    a2.legend(fontsize=8)
    fig.tight_layout()
    write_with(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
