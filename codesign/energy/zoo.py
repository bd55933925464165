"""Rows for the zoo models that are not a dense IntGraph: spiking (delay_snn, hd_snn) and
CoDeNet (codenet_tiny). Their activity comes from their own golden/RTL reports.

- SNN, asic45: synaptic operations per inference measured by the golden model (snn.json
  `sop_per_layer`) x E_AC, the literature convention (compute only, no memory), next to the
  same network run as an ANN (every synapse one MAC per inference) x E_MAC. Latency: simulated
  RTL cycles per step x steps at the 45 nm clock.
- CoDeNet, asic45: MACs per frame x (8x8 multiply scaled to W4A8 + 32-bit add), split over
  layers by their ideal cycles; latency from the simulated cycles per frame.
- CoDeNet, fpga: Yosys resources (codenet.json) with the bit-toggle rate of the golden
  feature maps between consecutive frames; cycles per frame from the Verilator simulation.
"""

from __future__ import annotations

import numpy as np

from codesign.energy.activity import toggle_rate
from codesign.energy.targets import _row
from codesign.energy.techfile import Technology
from codesign.errors import CodesignError


def snn_asic45(tech: Technology, snn: dict, rtl: dict) -> dict:
    """SOPs x E_AC per layer; ANN of the same synapses x E_MAC for the ratio."""
    g = snn.get("golden", {})
    if "sop_per_layer" not in g:
        raise CodesignError("snn report: golden.sop_per_layer missing (run `codesign golden`)")
    e_ac, e_mac = tech.si("snn_e_ac"), tech.si("snn_e_mac")
    layers = [{"layer": k, "pJ": v * e_ac * 1e12, "sops": v} for k, v in g["sop_per_layer"].items()]
    steps = rtl.get("steps")
    cps = snn.get("rtl_cycles_per_step")
    lat = cps * steps / tech.si("clock") if cps and steps else None
    synapses = rtl.get("synapses")
    ann = synapses * e_mac * 1e12 if synapses else None
    total = sum(r["pJ"] for r in layers)
    return _row(
        "asic45",
        tech,
        layers,
        lat,
        breakdown={"sop_pJ": total},
        activity={"sop_per_inference": g.get("sop_per_sample"), "spike_rate": g.get("spike_rate")},
        ann_equivalent_pJ=ann,
        snn_over_ann=total / ann if ann else None,
        area={"memory_bits": snn.get("rtl", {}).get("memory_bits", {}).get("total_bits")},
        method="golden-model synaptic operations x E_AC (SNN convention, 45 nm, compute only); "
        "ANN equivalent = synapses x E_MAC; latency = simulated RTL cycles/step x steps at "
        "the asic45 clock",
    )


def _codenet_layers(codenet: dict) -> dict[str, float]:
    perf = codenet.get("performance", {}).get("layers")
    if not perf:
        raise CodesignError("codenet report: performance.layers missing (run `codesign sim`)")
    return {k: float(v["ideal_cycles"]) for k, v in perf.items()}


def codenet_asic45(tech: Technology, codenet: dict) -> dict:
    """MACs x (W4A8 multiply + 32-bit add), split by ideal cycles."""
    macs = codenet["macs_per_frame"]
    per_mac = tech.si("mult8") * 4 * 8 / 64 + tech.si("add32")
    total = macs * per_mac * 1e12
    w = _codenet_layers(codenet)
    s = sum(w.values())
    cyc = codenet["performance"]["sim_cycles_per_frame"]
    return _row(
        "asic45",
        tech,
        [{"layer": k, "pJ": total * v / s} for k, v in w.items()],
        cyc / tech.si("clock"),
        breakdown={"mac_pJ": total},
        area={"macs": macs},
        method="MACs per frame x (Horowitz 8x8 mult x 4*8/64 + 32-bit add), compute only (no "
        "feature-map memory); split over layers by ideal cycles; latency = simulated cycles",
    )


def codenet_fpga(tech: Technology, codenet: dict, golden: dict[str, np.ndarray]) -> dict:
    """Yosys resources x toggle energy x golden feature-map toggle rate + DSP per MAC + static."""
    res = codenet.get("resources", {})
    cyc = float(codenet["performance"]["sim_cycles_per_frame"])
    num = den = 0.0
    for v in golden.values():
        a = np.asarray(v)
        if a.dtype.kind not in "iu" or a.ndim < 2 or a.shape[0] < 2:
            continue
        a = a.reshape(a.shape[0], -1).astype(np.int64)
        num += toggle_rate(a, 8) * a.shape[1]
        den += a.shape[1]
    if not den:
        raise CodesignError("codenet golden tensors: no integer feature maps to measure")
    alpha = num / den
    lanes = codenet["performance"]["pa"] * codenet["performance"]["pe"]
    clock = tech.si("clock")
    e = {
        "lut_pJ": cyc * alpha * res["LUT"] * tech.si("lut_toggle") * 1e12,
        "ff_pJ": cyc * alpha * res["FF"] * tech.si("ff_toggle") * 1e12,
        "carry_pJ": cyc * alpha * res.get("CARRY", 0) * tech.si("carry4_toggle") * 1e12,
        "dsp_pJ": codenet["macs_per_frame"] * res["DSP"] / lanes * tech.si("dsp_op") * 1e12,
        "bram_pJ": cyc * res.get("BRAM", 0) * tech.si("bram_read") * 1e12,
        "static_pJ": tech.si("static_power") * cyc / clock * 1e12,
    }
    total = sum(e.values())
    w = _codenet_layers(codenet)
    s = sum(w.values())
    return _row(
        "fpga",
        tech,
        [{"layer": k, "pJ": total * v / s} for k, v in w.items()],
        cyc / clock,
        breakdown=e,
        activity={"toggle_rate": alpha, "cycles": cyc},
        area={k: res.get(k) for k in ("LUT", "FF", "DSP", "BRAM", "CARRY")},
        method="Yosys xc7 resources x per-toggle energy x bit-toggle rate of the golden feature "
        "maps between frames + DSP per MAC + static over simulated cycles; split by ideal cycles",
    )
