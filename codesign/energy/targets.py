"""Energy per inference of one model on each substrate: asic45, fpga, reram, sfq.

Every row has the same keys: `total_pJ`, per-layer `layers` [{layer, pJ}], `latency_s`,
`throughput_inf_per_s`, `edp_Js` (energy x latency), `area` (the substrate's own proxy), a
`breakdown` by action, the `method` in words, where the activity came from, and the constants
used with their sources. `basis` says what kind of estimate a row is: "simulated" (the
substrate's simulator ran the model: ReRAM/SFQ simulators, or a Verilator toggle trace for the
FPGA) or "activity-count" (activity measured on the golden model or RTL cycles, priced per
action without simulating the substrate). Counts come from simulation reports (golden model,
Verilator RTL, Yosys, ReRAM and SFQ simulators); the constants from `flows/energy/*.yaml`.

Where a substrate's count is not per layer (Yosys flattens the design; the simulators report
totals), it is split over layers in proportion to MACs and the row says so.
"""

from __future__ import annotations

from codesign.energy.activity import mean_toggle_rate
from codesign.energy.constants import horowitz
from codesign.energy.digital import estimate
from codesign.energy.techfile import Technology
from codesign.errors import CodesignError
from codesign.ir.graph import IntGraph


def _row(target: str, tech: Technology, layers: list[dict], latency_s: float | None, **kw) -> dict:
    total_pj = sum(r["pJ"] for r in layers)
    default_tp = 1.0 / latency_s if latency_s else None
    return {
        "target": target,
        "technology": tech.name,
        "total_pJ": total_pj,
        "layers": layers,
        "latency_s": latency_s,
        "throughput_inf_per_s": kw.pop("throughput", default_tp),
        "edp_Js": total_pj * 1e-12 * latency_s if latency_s else None,
        "constants": tech.citations(),
        **kw,
    }


def design_clock(tech: Technology, clock_mhz: float | None, report: str) -> tuple[float, str]:
    """The clock a design's cycles run at (Hz) and where it came from.

    A model's own report names its RTL clock (codenet_tiny runs at 200 MHz); latency and static
    energy must use it, not the technology file's default `clock`.
    """
    if clock_mhz:
        return float(clock_mhz) * 1e6, f"{report} (the model's RTL clock)"
    return tech.si("clock"), f"{tech.name}.yaml clock (the flows' default RTL clock)"


def _split(total_pj: float, weights: dict[str, float]) -> list[dict]:
    s = sum(weights.values())
    return [{"layer": k, "pJ": total_pj * w / s} for k, w in weights.items()]


def asic45(graph: IntGraph, tech: Technology, rtl_sim: dict | None) -> dict:
    """45 nm: the existing Horowitz estimate (op counts of the golden graph) per layer.

    Latency: the simulated RTL cycles per inference at the technology's clock (the same
    micro-architecture as an ASIC), or MAC-serial cycles when no RTL simulation exists.
    """
    est = estimate(graph, horowitz(tech))  # the given technology file's energies
    layers = [{"layer": r["layer"], "pJ": r["total_pJ"]} for r in est["layers"]]
    clock = tech.si("clock")
    if rtl_sim:
        cyc, interval = rtl_sim["cycles_per_inference"], rtl_sim["interval_cycles_per_inference"]
        src = "reports/rtl_sim.json (Verilator, cycles per inference)"
    else:
        cyc = interval = est["macs"]
        src = "one MAC per cycle (no RTL simulation found)"
    return _row(
        "asic45",
        tech,
        layers,
        cyc / clock,
        throughput=clock / interval,
        breakdown={
            k: sum(r[k] for r in est["layers"])
            for k in ("mult_pJ", "add_pJ", "requant_pJ", "weight_mem_pJ", "act_mem_pJ")
        },
        area={"weight_sram_bits": est["weight_memory_bits"], "macs": est["macs"]},
        fp32_baseline_pJ=est["fp32_baseline_pJ"],
        basis="activity-count",
        method="golden-graph op counts x Horowitz 45 nm action energies (codesign/energy/"
        "digital.py); latency from " + src,
    )


def fpga(
    graph: IntGraph,
    tech: Technology,
    act: list[dict],
    synth: dict,
    rtl_sim: dict,
    trace: dict | None = None,
) -> dict:
    """FPGA: Yosys resources x per-resource energy per toggle x measured toggle rate, plus static.

    Per inference in steady streaming (one inference every `interval` cycles):
      E_dyn = interval x alpha x (LUT e_lut + FF e_ff + CARRY4 e_carry) + DSP_ops x e_dsp
      E_static = P_static x interval / f_clk
    alpha is the mean net-bit toggle rate per cycle of a Verilator VCD trace of the RTL
    (`trace`, reports/rtl_activity.json) when there is one; otherwise the bit-toggle rate of the
    layer streams measured on the golden model (datapath words between consecutive
    inferences), and the row says which. DSP_ops = MACs x DSP / sum(PE x SIMD) (every
    multiplier lane's DSPs fire once per MAC it performs). Yosys flattens the design, so energy is
    split over layers by MACs.
    """
    for k in ("LUT", "FF", "DSP"):
        if k not in synth:
            raise CodesignError(f"synth report: key '{k}' missing")
    if trace:
        alpha = trace["rate"]
        src = (
            f"net-bit toggle rate of a Verilator VCD trace of the RTL ({trace['samples']} samples, "
            f"{trace['bits']} net bits, reports/rtl_activity.json)"
        )
    else:
        alpha = mean_toggle_rate(act)
        src = "bit-toggle rate of the layer streams measured on the golden model (no RTL trace)"
    interval = float(rtl_sim["interval_cycles_per_inference"])
    clock = tech.si("clock")
    lanes = sum(f["pe"] * f["simd"] for f in rtl_sim["folding"].values())
    macs = sum(r["macs"] for r in act)
    dsp_ops = macs * synth["DSP"] / lanes
    bram = float(synth.get("BRAM", 0.0))
    e = {
        "lut_pJ": interval * alpha * synth["LUT"] * tech.si("lut_toggle") * 1e12,
        "ff_pJ": interval * alpha * synth["FF"] * tech.si("ff_toggle") * 1e12,
        "carry_pJ": interval * alpha * synth.get("CARRY4", 0) * tech.si("carry4_toggle") * 1e12,
        "dsp_pJ": dsp_ops * tech.si("dsp_op") * 1e12,
        "bram_pJ": interval * bram * tech.si("bram_read") * 1e12,
        "static_pJ": tech.si("static_power") * interval / clock * 1e12,
    }
    total = sum(e.values())
    return _row(
        "fpga",
        tech,
        _split(total, {r["layer"]: r["macs"] for r in act}),
        rtl_sim["cycles_per_inference"] / clock,
        throughput=clock / interval,
        breakdown=e,
        activity={
            "toggle_rate": alpha,
            "toggle_source": "rtl_vcd" if trace else "golden_streams",
            "golden_stream_toggle_rate": mean_toggle_rate(act),
            "interval_cycles": interval,
            "dsp_ops": dsp_ops,
        },
        area={k: synth.get(k) for k in ("LUT", "FF", "DSP", "BRAM", "CARRY4")},
        basis="simulated" if trace else "activity-count",
        method="Yosys xc7 resources (reports/synth_xc7.json) x per-resource energy per toggle x "
        + src
        + " + DSP energy per MAC + static power over the simulated interval; split over layers "
        "by MACs",
    )


def reram(graph: IntGraph, tech: Technology, report: dict, config: str = "default") -> dict:
    """ReRAM: the simulator's measured conversions and crossbar read energy, priced from YAML.

    The simulator counts DAC/ADC conversions and integrates sum G V^2 t over every read; here
    the converter counts are re-priced with `flows/energy/reram.yaml` (ISAAC scaling: x2 per bit
    above 8 for the ADC, x2 per bit above 1 magnitude bit for the DAC). Per layer: conversions
    from the layer's mapping (pulses x rows, pulses x columns), crossbar energy split by MACs.
    """
    if config not in report:
        raise CodesignError(f"reram report: configuration '{config}' missing")
    en = report[config]["energy"]
    c = en["counts_per_inference"]
    adc_j = tech.si("adc_8bit_conversion") * 2.0 ** (en["adc_bits"] - 8)
    dac_j = tech.si("dac_1bit_conversion") * 2.0 ** (en["dac_bits"] - 2)
    rq_j = tech.si("requant_mult32") + tech.si("requant_add32")
    xbar = en["per_inference"]["crossbar_read_j"]
    maps = {m["layer"]: m for m in report["mapping"]}
    lays, totals = [], {"crossbar_pJ": 0.0, "dac_pJ": 0.0, "adc_pJ": 0.0, "shift_add_pJ": 0.0}
    totals["requant_pJ"] = 0.0
    n_dac = n_adc = 0
    macs = sum(lay.macs for lay in graph.layers)
    for lay in graph.layers:
        m = maps.get(lay.name)
        if m is None:
            raise CodesignError(f"reram report: layer '{lay.name}' missing from mapping")
        dac = m["input_pulses"] * lay.in_features
        adc = m["input_pulses"] * lay.out_features * m["weight_digits"]
        n_dac, n_adc = n_dac + dac, n_adc + adc
        parts = {
            "crossbar_pJ": xbar * lay.macs / macs * 1e12,
            "dac_pJ": dac * dac_j * 1e12,
            "adc_pJ": adc * adc_j * 1e12,
            "shift_add_pJ": adc * tech.si("shift_add") * 1e12,
            "requant_pJ": lay.out_features * rq_j * 1e12,
        }
        for k, v in parts.items():
            totals[k] += v
        lays.append({"layer": lay.name, "pJ": sum(parts.values()), **parts})
    if (n_dac, n_adc) != (c["dac_conversions"], c["adc_conversions"]):
        raise CodesignError(
            f"reram report: per-layer conversions {n_dac}/{n_adc} differ from the simulator's "
            f"counts {c['dac_conversions']}/{c['adc_conversions']} (mapping changed?)"
        )
    return _row(
        "reram",
        tech,
        lays,
        en["latency_s"],
        breakdown=totals,
        activity={
            "config": config,
            "dac_conversions": n_dac,
            "adc_conversions": n_adc,
            "crossbar_reads": c["crossbar_reads"],
            "adc_bits": en["adc_bits"],
            "dac_bits": en["dac_bits"],
            "simulator_total_pJ": en["per_inference"]["total_j"] * 1e12,
        },
        accuracy=report[config].get("accuracy"),
        area={"tiles": en["tiles"], "devices": en["devices"]},
        basis="simulated",
        method=f"ReRAM simulator run '{config}' (reports/reram.json): measured crossbar read "
        "energy + its DAC/ADC/shift-add counts x flows/energy/reram.yaml; per layer from the "
        "mapping (crossbar energy split by MACs)",
    )


def sfq(graph: IntGraph, tech: Technology, report: dict) -> dict:
    """SFQ: measured junction switchings x Ic*Phi0 + RSFQ static bias over the measured latency.

    E_dyn = switchings x Ic x Phi0; E_static = JJs x b x Ic x V_bias x latency, where latency is
    the simulated arrival of the last output pulse (the simulator's own static_J uses the run's
    `end_time_ps`, recorded next to ours). Cooling is a separate column (x (1 + cryo_factor)),
    as the papers quote both; `dynamic_with_cooling_pJ` is the ERSFQ case (no static
    dissipation). Split over layers by MACs.
    """
    per = report["per_inference"]
    jjs = report["netlist"]["jj_count"]
    ic, phi0 = tech.si("ic"), tech.si("phi0")
    lat = per["latency_ps"] * 1e-12
    e_dyn = per["switchings"] * ic * phi0 * 1e12
    p_static = jjs * tech.si("bias_fraction") * ic * tech.si("v_bias")
    e_static = p_static * lat * 1e12
    total = e_dyn + e_static
    cryo = tech.si("cryo_factor")
    return _row(
        "sfq",
        tech,
        _split(total, {lay.name: lay.macs for lay in graph.layers}),
        lat,
        breakdown={"dynamic_pJ": e_dyn, "static_pJ": e_static},
        with_cooling_pJ=total * (1.0 + cryo),
        activity={
            "switchings": per["switchings"],
            "pulse_events": per["events"],
            "synaptic_ops": per["synaptic_ops"],
            "simulated_graph": report.get("graph"),
            "samples": report.get("samples"),
            "simulator_total_pJ": per["total_J"] * 1e12,
            "simulator_static_pJ": per["static_J"] * 1e12,
            "static_duration_ps": per["latency_ps"],
        },
        dynamic_with_cooling_pJ=e_dyn * (1.0 + cryo),
        accuracy=report.get("accuracy_sfq"),
        area={"jj_count": jjs, "cells": report["netlist"]["cells"]},
        basis="simulated",
        method="SFQ pulse simulator (reports/sfq.json): measured junction switchings x Ic*Phi0 "
        "+ RSFQ static bias power x measured latency; cooling reported separately; split over "
        "layers by MACs; note the simulated graph: " + str(report.get("graph")),
    )
