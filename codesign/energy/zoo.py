"""Rows for the zoo models that are not a dense IntGraph: spiking (delay_snn, hd_snn) and
CoDeNet (codenet_tiny). Their activity comes from their own golden/RTL reports.

- SNN, asic45: synaptic operations per inference measured by the golden model (snn.json
  `sop_per_layer`) x E_AC, the literature convention (compute only, no memory), next to the
  same network run as an ANN (every synapse one MAC per inference) x E_MAC. Latency: simulated
  RTL cycles per step x steps at the 45 nm clock.
- CoDeNet, asic45: per layer, MACs per frame x (8x8 multiply scaled to the layer's weight
  width x 8-bit activations + 32-bit add); latency from the simulated cycles per frame.
- CoDeNet, fpga: Yosys resources (codenet.json) with the bit-toggle rate of the golden
  feature maps between consecutive frames; cycles per frame from the Verilator simulation.
"""

from __future__ import annotations

import numpy as np

from codesign.energy.activity import toggle_rate
from codesign.energy.targets import _row, design_clock
from codesign.energy.techfile import Technology
from codesign.errors import CodesignError
from codesign.graph.core import symmetric_bits


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
        basis="activity-count",
        method="golden-model synaptic operations x E_AC (SNN convention, 45 nm, compute only); "
        "ANN equivalent = synapses x E_MAC; latency = simulated RTL cycles/step x steps at "
        "the asic45 clock",
    )


def _codenet_layers(codenet: dict) -> dict[str, float]:
    perf = codenet.get("performance", {}).get("layers")
    if not perf:
        raise CodesignError("codenet report: performance.layers missing (run `codesign sim`)")
    return {k: float(v["ideal_cycles"]) for k, v in perf.items()}


def multiplier_width(lay) -> int:
    """Width of the weight operand the multiplier sees: the stored integer for uniform weights,
    the decoded codebook level for POST (indices are decoded before the multiply)."""
    if lay.codebook is not None:
        return symmetric_bits(max(abs(int(v)) for v in lay.codebook))
    return int(lay.weight_bits)


def codenet_asic45(tech: Technology, codenet: dict, graph) -> dict:
    """Per layer: MACs x (multiply at weight width x 8-bit activations + 32-bit add)."""
    from codesign.codenet.graph import codenet_net

    graph = codenet_net(graph)
    _, h, w = graph.input_shape
    mult8, add32 = tech.si("mult8"), tech.si("add32")
    layers, bits = [], {}
    for lay in graph.layers:
        macs = lay.macs_per_pixel() * h * w
        wb = multiplier_width(lay)
        bits[lay.name] = wb
        layers.append({"layer": lay.name, "pJ": macs * (mult8 * wb * 8 / 64 + add32) * 1e12})
    cyc = codenet["performance"]["sim_cycles_per_frame"]
    return _row(
        "asic45",
        tech,
        layers,
        cyc / tech.si("clock"),
        breakdown={"mac_pJ": sum(r["pJ"] for r in layers)},
        activity={"multiplier_weight_bits": bits},
        area={"macs": graph.macs()},
        basis="activity-count",
        method="per layer: MACs per frame x (Horowitz 8x8 mult x weight bits x 8 / 64 + 32-bit "
        "add); weight bits as multiplied (uniform: stored bits; POST: the decoded codebook "
        "level); compute only (no feature-map memory); latency = simulated cycles at the "
        "asic45 clock",
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
    clock, clock_src = design_clock(tech, codenet["performance"].get("clock_mhz"), "codenet.json")
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
        activity={
            "toggle_rate": alpha,
            "cycles": cyc,
            "clock_MHz": clock / 1e6,
            "clock_source": clock_src,
        },
        area={k: res.get(k) for k in ("LUT", "FF", "DSP", "BRAM", "CARRY")},
        basis="activity-count",
        method="Yosys xc7 resources x per-toggle energy x bit-toggle rate of the golden feature "
        "maps between frames + DSP per MAC + static over simulated cycles at the design clock; "
        "split by ideal cycles",
    )


# --- ReRAM and SFQ rows of the spiking and CoDeNet models (activity counts, not simulations) ---

# Xilinx Power Estimator default toggle rate, "based on an average extracted from a suite of
# customer designs" (UG440, Using the Logic Sheet:
# https://docs.amd.com/r/en-US/ug440-xilinx-power-estimator/Using-the-Logic-Sheet); used where no
# RTL trace of the design exists (the event-driven SNN core).
XPE_DEFAULT_TOGGLE = 0.125
# a spike is one read pulse: a 2-bit DAC in the simulator's convention (codes -1, 0, +1)
SNN_DAC_BITS = 2
# CoDeNet frames counted (the golden split has 200; the counts are per-frame means)
CODENET_FRAMES = 64


def reram_config(kind: str):
    """The crossbar configuration of a row: the simulator's defaults (256x256 tiles, 9 levels,
    9-bit ADC per column), spikes as 1-bit pulses for the spiking models."""
    from codesign.sim.reram.config import CrossbarConfig

    return CrossbarConfig(dac_bits=SNN_DAC_BITS) if kind == "snn" else CrossbarConfig()


def price_reram(tech: Technology, counts: list[dict], cfg, periphery: str) -> tuple:
    """pJ per layer from counts (codesign/energy/reram_count.py) and flows/energy/reram.yaml.

    periphery 'lif': every neuron, every step, one integer LIF update in digital logic (2 x
    32-bit add: leak and integrate; the threshold compare folded in); 'requant': every output
    one requantisation (32-bit multiply + add; the zero-point term rides in the add).
    """
    dac_j = tech.si("dac_1bit_conversion") * 2.0 ** (cfg.dac_bits - 2)
    add_j = tech.si("requant_add32")
    per_out = 2 * add_j if periphery == "lif" else tech.si("requant_mult32") + add_j
    layers, totals = [], {}
    for c in counts:
        adc_j = tech.si("adc_8bit_conversion") * 2.0 ** (c["adc_bits"] - 8)
        parts = {
            "crossbar_pJ": c["crossbar_read_j"] * 1e12,
            "dac_pJ": c["dac_conversions"] * dac_j * 1e12,
            "adc_pJ": c["adc_conversions"] * adc_j * 1e12,
            "shift_add_pJ": c["adc_conversions"] * tech.si("shift_add") * 1e12,
            f"{periphery}_pJ": c["neurons"] * per_out * 1e12,
        }
        for k, v in parts.items():
            totals[k] = totals.get(k, 0.0) + v
        layers.append({"layer": c["layer"], "pJ": sum(parts.values()), **parts})
    return layers, totals


def reram_row(tech: Technology, counts: list[dict], cfg, kind: str, samples: int) -> dict:
    """The ReRAM row of a spiking or CoDeNet model from its activity counts."""
    from codesign.sim.reram.energy import ADC_RATE_HZ

    periphery = "lif" if kind == "snn" else "requant"
    layers, totals = price_reram(tech, counts, cfg, periphery)
    t_slot = cfg.t_read_s + cfg.adc_share / ADC_RATE_HZ
    latency = sum(c["read_slots"] for c in counts) * t_slot
    drive = (
        "each input spike drives its crossbar rows with one read pulse (a spike-driven row "
        "driver priced as a 1-bit DAC conversion; no multi-bit DAC), as the resistive-memory "
        "LSM's spike inputs do (arXiv 2307.00771, REFERENCES.md); a tile is read in a time "
        "step only when one of its rows carries a spike (event driven)"
        if kind == "snn"
        else "activations minus their zero point as 7-bit DAC pulses (2 per 8-bit value), zero "
        "codes skipped; a tile is read when one of its rows is non-zero"
    )
    return _row(
        "reram",
        tech,
        layers,
        latency,
        breakdown=totals,
        activity={
            "config": "default" if kind != "snn" else "default, dac_bits=2 (spike pulses)",
            "samples": samples,
            "dac_conversions": sum(c["dac_conversions"] for c in counts),
            "adc_conversions": sum(c["adc_conversions"] for c in counts),
            "crossbar_reads": sum(c["crossbar_reads"] for c in counts),
            "adc_bits": max(c["adc_bits"] for c in counts),
            "dac_bits": cfg.dac_bits,
            "adc_exact_measured": all(c["adc_exact_measured"] for c in counts),
            "per_layer": counts,
        },
        accuracy=None,
        area={
            "tiles": sum(c["tiles"] for c in counts),
            "devices": sum(c["devices"] for c in counts),
        },
        basis="activity-count",
        method="activity count, not a crossbar simulation: every layer as im2col matrix-vector "
        "products on 256x256 tiles with the ReRAM simulator's mapping (codesign/energy/im2col.py, "
        f"reram_count.py) driven by the golden model's measured inputs ({samples} samples); "
        + drive
        + "; one 9-bit ADC conversion per column of every tile read (the neuron state stays an "
        "exact integer in digital periphery; analog integrate-and-fire neurons in the periphery "
        "would drop the ADC but have no cited constant here); crossbar read energy = sum G V^2 "
        "t_read with the ideal programmed conductances; periphery: "
        + ("one integer LIF update per neuron and step" if kind == "snn" else "requantisation")
        + "; latency = every read slot in sequence (t_read + one ADC conversion)",
    )


def sfq_row(tech: Technology, counts: dict, kind: str, samples: int) -> dict:
    """The SFQ row from switching counts (codesign/energy/sfq_count.py), priced as targets.sfq:
    E_dyn = switchings x Ic x Phi0, E_static = JJs x b x Ic x V_bias x latency, cooling apart."""
    ic, phi0 = tech.si("ic"), tech.si("phi0")
    p_jj = tech.si("bias_fraction") * ic * tech.si("v_bias")
    lat = counts["latency_ps"] * 1e-12
    layers, dyn_t, stat_t, sw_t, syn_t, jj_t, by_kind = [], 0.0, 0.0, 0.0, 0.0, {}, {}
    for r in counts["layers"]:
        sw = sum(r["switchings"].values())
        jjs = sum(r["jj"].values())
        dyn, stat = sw * ic * phi0 * 1e12, jjs * p_jj * lat * 1e12
        layers.append({"layer": r["layer"], "pJ": dyn + stat, "dynamic_pJ": dyn, "static_pJ": stat})
        dyn_t, stat_t, sw_t = dyn_t + dyn, stat_t + stat, sw_t + sw
        syn_t += r["synaptic_events"]
        for k, v in r["jj"].items():
            jj_t[k] = jj_t.get(k, 0) + v
        for k, v in r["switchings"].items():
            by_kind[k] = by_kind.get(k, 0.0) + v
    total = dyn_t + stat_t
    cryo = tech.si("cryo_factor")
    return _row(
        "sfq",
        tech,
        layers,
        lat,
        breakdown={"dynamic_pJ": dyn_t, "static_pJ": stat_t},
        with_cooling_pJ=total * (1.0 + cryo),
        activity={
            "switchings": sw_t,
            "switchings_by_kind": by_kind,
            "synaptic_ops": syn_t,
            "samples": samples,
            "simulated_graph": None,
            "design": counts["design"],
            "jj_by_cell": jj_t,
            "per_layer": counts["layers"],
            **{k: counts[k] for k in ("step_period_ps", "pulse_period_ps") if k in counts},
        },
        dynamic_with_cooling_pJ=dyn_t * (1.0 + cryo),
        per_synaptic_op_pJ=total / syn_t if syn_t else None,
        accuracy=None,
        area={"jj_count": sum(jj_t.values())},
        basis="activity-count",
        method="activity count, not a pulse simulation: the golden model's "
        + ("spikes" if kind == "snn" else "activations as unary pulse counts")
        + f" ({samples} samples) walked through a netlist of SFQ library cells ("
        + counts["design"]
        + "), each pulse charged the junction switchings codesign/sim/sfq/energy.py charges "
        "its cells, x Ic*Phi0; RSFQ static bias x latency from the cell delays; cooling "
        "reported separately",
    )


def snn_rows(model_graph, golden: dict, techs: dict[str, Technology]) -> dict[str, dict]:
    """ReRAM and SFQ rows of a spiking model from its golden spikes."""
    from codesign.energy import im2col, reram_count, sfq_count

    n = int(len(golden["input"]))
    cfg = reram_config("snn")
    counts = [reram_count.count_layer(m, cfg) for m in im2col.snn_layers(model_graph, golden)]
    return {
        "reram": reram_row(techs["reram"], counts, cfg, "snn", n),
        "sfq": sfq_row(techs["sfq"], sfq_count.snn_counts(model_graph, golden), "snn", n),
    }


def codenet_rows(graph, golden: dict, techs: dict[str, Technology]) -> dict[str, dict]:
    """ReRAM and SFQ rows of a CoDeNet model from its golden feature maps (first frames)."""
    from codesign.energy import im2col, reram_count, sfq_count

    lim = CODENET_FRAMES
    n = int(min(lim, len(golden["input"])))
    cfg = reram_config("codenet")
    counts = [reram_count.count_layer(m, cfg) for m in im2col.codenet_layers(graph, golden, lim)]
    return {
        "reram": reram_row(techs["reram"], counts, cfg, "codenet", n),
        "sfq": sfq_row(techs["sfq"], sfq_count.codenet_counts(graph, golden, lim), "codenet", n),
    }


def snn_fpga(tech: Technology, synth: dict, sim: dict, snn: dict) -> dict:
    """FPGA row of the event-driven SNN core: Yosys resources x toggle energies x the XPE
    default toggle rate over the Verilator-measured cycles per sample, every BRAM enabled every
    cycle, static power over the same time; split over layers by golden SOPs."""
    for k in ("LUT", "FF"):
        if k not in synth:
            raise CodesignError(f"synth report: key '{k}' missing")
    cyc = float(sim["cycles_per_sample"])
    a = XPE_DEFAULT_TOGGLE
    clock = tech.si("clock")
    e = {
        "lut_pJ": cyc * a * synth["LUT"] * tech.si("lut_toggle") * 1e12,
        "ff_pJ": cyc * a * synth["FF"] * tech.si("ff_toggle") * 1e12,
        "carry_pJ": cyc * a * synth.get("CARRY", 0) * tech.si("carry4_toggle") * 1e12,
        "dsp_pJ": cyc * synth.get("DSP", 0) * tech.si("dsp_op") * 1e12,
        "bram_pJ": cyc * synth.get("BRAM", 0) * tech.si("bram_read") * 1e12,
        "static_pJ": tech.si("static_power") * cyc / clock * 1e12,
    }
    total = sum(e.values())
    sops = snn.get("golden", {}).get("sop_per_layer") or {"all": 1.0}
    s = sum(sops.values())
    return _row(
        "fpga",
        tech,
        [{"layer": k, "pJ": total * v / s} for k, v in sops.items()],
        cyc / clock,
        breakdown=e,
        activity={
            "toggle_rate": a,
            "toggle_source": "xpe_default (UG440: 12.5 %, no RTL trace of the SNN core)",
            "cycles": cyc,
            "cycles_source": f"Verilator, {sim.get('samples')} samples (reports/sim.json)",
        },
        area={k: synth.get(k) for k in ("LUT", "FF", "DSP", "BRAM", "CARRY")},
        basis="activity-count",
        method="Yosys xc7 resources of the event-driven SNN core (reports/synth_xc7.json) x "
        "per-resource energy per toggle x the XPE default toggle rate (12.5 %, UG440) over the "
        "Verilator-measured cycles per sample, every BRAM read every cycle, + static power over "
        "the same time; split over layers by golden SOPs",
    )
