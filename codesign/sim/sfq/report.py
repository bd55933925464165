"""Run a mapped model at nominal bias and collect the `reports/sfq.json` figures."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from codesign.ir import chain
from codesign.sim.sfq import timing
from codesign.sim.sfq.cells import CELLS, cell_jjs
from codesign.sim.sfq.energy import energy
from codesign.sim.sfq.engine import Compiled
from codesign.sim.sfq.mapping import SFQModel, compare


def netlist_stats(model: SFQModel) -> dict:
    nl = model.netlist
    by_type = Counter(c.type for c in nl.cells)
    jjs = Counter()
    for c in nl.cells:
        jjs[c.type] += cell_jjs(CELLS[c.type], c.params)
    return {
        "cells": len(nl.cells),
        "cells_by_type": dict(by_type),
        "jj_count": nl.jj_count,
        "jjs_by_type": dict(jjs),
        "synapses": model.synapses,
        "neurons": by_type.get("IFN", 0),
        "inputs": len(nl.inputs),
        "outputs": len(nl.outputs),
    }


def run_nominal(model: SFQModel, x: np.ndarray, biasing: str = "rsfq") -> dict:
    """Simulate every sample at nominal bias, compare layer by layer, average the costs."""
    gold = chain.run(model.graph, x)
    comp = Compiled(model.netlist)
    results = []
    t0 = time.perf_counter()
    c0 = time.process_time()
    cmp = compare(model, comp, x, gold, results=results)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    events = [r.events for r in results]
    lat = []
    ens = []
    for r in results:
        last = model.graph.layers[-1].name
        outs = [t for w in model.netlist.outputs if w.startswith(f"{last}.") for t in r.outputs[w]]
        lat.append(max(outs, default=0.0))
        # static bias is paid at least until the last output pulse of the inference
        ens.append(energy(comp, r, duration_ps=max(r.end_time_ps, lat[-1]), biasing=biasing))
    viol = sum(len(r.violations) for r in results)
    keys = [
        "switchings",
        "dynamic_J",
        "static_J",
        "total_J",
        "synaptic_ops",
        "total_with_cooling_J",
    ]
    mean = {k: float(np.mean([e[k] for e in ens])) for k in keys}
    syn = mean["synaptic_ops"]
    return {
        "samples": int(len(x)),
        "equal_to_golden": cmp.equal,
        "mismatches": cmp.mismatches,
        "first_mismatch": cmp.first,
        "timing_violations": viol,
        "sfq_out": cmp.sfq_out,
        "golden_out": cmp.golden_out,
        "per_inference": {
            "events": float(np.mean(events)),
            "latency_ps": float(np.mean(lat)),
            "latency_max_ps": float(np.max(lat)) if lat else 0.0,
            **mean,
            "per_synaptic_op_J": mean["total_J"] / syn if syn else None,
            "biasing": biasing,
            "switch_energy_J": ens[0]["switch_energy_J"] if ens else None,
            "static_power_W": ens[0]["static_power_W"] if ens else None,
            "cryo_factor": ens[0]["cryo_factor"] if ens else None,
        },
        "sim_wall_s": wall,
        "events_total": int(sum(events)),
        "events_per_s": sum(events) / wall if wall > 0 else None,
        "sim_cpu_s": cpu,  # wall > cpu means other processes shared the cores
        "events_per_cpu_s": sum(events) / cpu if cpu > 0 else None,
        "timing": timing.analyse(model.netlist),
    }
