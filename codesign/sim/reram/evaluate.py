"""Accuracy of a mapped model against labels and the golden model, and one-knob sweeps.

Every sweep point reprograms the crossbars with the same seed (common random numbers), so a
curve shows the effect of its knob, not of a different random draw; `repeats` > 1 adds seeds.
"""

from __future__ import annotations

import math

import numpy as np

from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.ir.graph import IntGraph
from codesign.sim.reram.config import CrossbarConfig, parse_value
from codesign.sim.reram.energy import energy_breakdown
from codesign.sim.reram.mapping import compare, map_graph

# Stuck-at split of Chen et al., IEEE TC 2015: 9.04 % stuck-at-LRS (on) vs 1.75 % at HRS (off).
STUCK_ON_SHARE = 9.04 / (9.04 + 1.75)

# name -> (values, settings that make the knob visible on the ideal base)
STANDARD_SWEEPS: dict[str, tuple[list, dict]] = {
    "prog_noise": ([0.0, 0.5, 1.0, 2.0, 3.0, 4.0], {}),
    "read_noise": ([0.0, 0.5, 1.0, 2.0, 3.0, 4.0], {}),
    "t_inference_s": ([0.0, 60.0, 3600.0, 86400.0, 2.592e6, 3.1536e7], {"drift": 1.0}),
    "adc_bits": ([4, 5, 6, 7, 8, 9, 10], {"adc_range": "calibrated"}),
    "p_stuck": ([0.0, 0.001, 0.003, 0.01, 0.03, 0.1], {}),
    "d2d_sigma": ([0.0, 0.05, 0.1, 0.2, 0.3], {}),
    "r_wire_ohm": ([0.0, 0.35, 1.0, 3.0, 10.0], {}),
}


def with_knob(cfg: CrossbarConfig, name: str, value: object) -> CrossbarConfig:
    """cfg with one knob set; 'p_stuck' is a total stuck-at rate split as Chen et al. 2015."""
    if name == "p_stuck":
        p = float(value)  # type: ignore[arg-type]
        return cfg.replace(p_stuck_on=p * STUCK_ON_SHARE, p_stuck_off=p * (1 - STUCK_ON_SHARE))
    return cfg.replace(**{name: value})


def parse_sweep(spec: str) -> tuple[str, list]:
    """'adc_bits=4..10' (integer range), 'prog_noise=0..2:5' (5 points), 'a=1,2,3', 'name'."""
    if "=" not in spec:
        if spec not in STANDARD_SWEEPS:
            raise CodesignError(f"unknown sweep '{spec}' (standard: {sorted(STANDARD_SWEEPS)})")
        return spec, list(STANDARD_SWEEPS[spec][0])
    name, rng = spec.split("=", 1)
    field = "p_stuck_on" if name == "p_stuck" else name
    try:
        if ".." in rng:
            lo, rest = rng.split("..", 1)
            if ":" in rest:
                hi, n = rest.split(":", 1)
                vals = list(np.linspace(float(lo), float(hi), int(n)))
            else:
                a, b = int(lo), int(rest)
                vals = list(range(a, b + 1))
        else:
            vals = [parse_value(field, v) for v in rng.split(",")]
    except ValueError:
        raise CodesignError(f"sweep '{spec}': cannot parse range '{rng}'") from None
    if not vals:
        raise CodesignError(f"sweep '{spec}': empty range")
    if field != "p_stuck_on":
        vals = [parse_value(field, str(v)) for v in vals]
    return name, vals


def run_point(
    graph: IntGraph,
    x: np.ndarray,
    labels: np.ndarray,
    cfg: CrossbarConfig,
    calib_x: np.ndarray | None,
    gold: dict[str, np.ndarray] | None = None,
    with_energy: bool = False,
) -> dict:
    """Map, run, and score one configuration."""
    gold = gold if gold is not None else chain.run(graph, x)
    mapped = map_graph(graph, cfg, calib_x=calib_x)
    out = mapped.run(x)
    last = graph.layers[-1].name
    pred = out[last].argmax(axis=1)
    row = {
        "accuracy": float(np.mean(pred == labels)),
        "agreement_with_golden": float(np.mean(pred == gold[last].argmax(axis=1))),
        "layers": compare(gold, out),
    }
    row["exact"] = all(r["mismatches"] == 0 for r in row["layers"])
    if with_energy:
        row["energy"] = energy_breakdown(mapped, len(x))
    return row


def sweep(
    graph: IntGraph,
    x: np.ndarray,
    labels: np.ndarray,
    name: str,
    values: list,
    base: CrossbarConfig,
    calib_x: np.ndarray | None,
    repeats: int = 1,
    extra: dict | None = None,
) -> dict:
    """Accuracy vs one knob: mean/std over `repeats` seeds at each value."""
    gold = chain.run(graph, x)
    companions = dict(STANDARD_SWEEPS.get(name, ([], {}))[1])
    companions.update(extra or {})
    cfg0 = base.replace(**companions) if companions else base
    points = []
    for v in values:
        accs, agree, mae = [], [], []
        for r in range(repeats):
            cfg = with_knob(cfg0, name, v).replace(seed=base.seed + r)
            row = run_point(graph, x, labels, cfg, calib_x, gold)
            accs.append(row["accuracy"])
            agree.append(row["agreement_with_golden"])
            mae.append(row["layers"][-1]["mean_abs_err"])
        points.append(
            {
                "value": v if not isinstance(v, float) or math.isfinite(v) else str(v),
                "accuracy_mean": float(np.mean(accs)),
                "accuracy_std": float(np.std(accs)),
                "agreement_mean": float(np.mean(agree)),
                "output_mae_mean": float(np.mean(mae)),
            }
        )
    return {"parameter": name, "companions": companions, "repeats": repeats, "points": points}
