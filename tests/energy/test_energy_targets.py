"""Counters and substrate rows on hand-computed small cases, and the monotonicity property."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.energy import targets, zoo
from codesign.energy.activity import layer_activity, mean_toggle_rate, toggle_rate
from codesign.energy.techfile import load_all
from codesign.errors import CodesignError
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant

PHI0 = 2.067833848e-15
TECH = load_all()


def tiny_graph():
    u8 = QuantSpec(8, False, -4)
    w = np.array([[3, -2, 1], [0, 7, -7]])
    lay = DenseLayer(
        "fc0",
        w,
        np.array([0, 0]),
        Requant(np.array([3, 3]), np.array([4, 4]), 0, 255),
        u8,
        u8,
        True,
        "uniform",
        4,
    )
    return IntGraph("tiny", u8, [lay])


def test_toggle_rate_by_hand():
    assert toggle_rate(np.array([[0], [3]]), 2) == 1.0
    assert toggle_rate(np.array([[0], [1], [1]]), 2) == 0.25  # 1 flip over 2 words x 2 bits
    assert toggle_rate(np.array([[-1], [0]]), 8) == 1.0  # two's complement 0xff -> 0x00
    assert toggle_rate(np.array([[5, 5]]), 8) == 0.0  # a single word cannot toggle


def test_layer_activity_by_hand():
    g = tiny_graph()
    x = np.array([[1, 0, 2], [1, 0, 3]])
    y = np.array([[0, 4], [0, 4]])
    (row,) = layer_activity(g, {"input": x, "fc0": y})
    assert row["macs"] == 6
    assert row["nonzero_macs"] == 4  # 2 non-zero inputs x 2 outputs per sample
    assert row["input_density"] == pytest.approx(4 / 6)
    assert row["weight_bits_read"] == 24 and row["act_bits_read"] == 24
    assert row["in_toggle_rate"] == pytest.approx(1 / (3 * 8))  # 2 -> 3 flips one bit
    assert row["out_toggle_rate"] == 0.0
    with pytest.raises(CodesignError, match="fc0"):
        layer_activity(g, {"input": x})


def fpga_inputs(alpha_bits=1):
    act = [{"layer": "fc0", "macs": 6, "act_bits_read": 24, "in_toggle_rate": alpha_bits / 24}]
    synth = {"LUT": 100, "FF": 50, "DSP": 2, "CARRY4": 10, "BRAM": 0}
    rtl = {
        "interval_cycles_per_inference": 10,
        "cycles_per_inference": 20,
        "folding": {"fc0": {"pe": 2, "simd": 1}},
    }
    return act, synth, rtl


def test_fpga_row_by_hand():
    act, synth, rtl = fpga_inputs(alpha_bits=6)  # alpha = 0.25
    r = targets.fpga(tiny_graph(), TECH["fpga_xc7"], act, synth, rtl)
    a = 0.25
    # fpga_xc7.yaml: LUT 0.41, FF 0.22, CARRY4 0.24 pJ per toggle (each with its routed net)
    dyn = 10 * a * (100 * 0.41 + 50 * 0.22 + 10 * 0.24)  # pJ
    dsp = 6 * 2 / 2 * 3.6  # MACs x DSP / lanes x pJ (12 x (0.2 + 0.1) pJ, fpga_xc7.yaml)
    static = 72e-3 * 10 / 100e6 * 1e12  # 72 mW device static
    assert r["total_pJ"] == pytest.approx(dyn + dsp + static)
    assert r["latency_s"] == pytest.approx(20 / 100e6)
    assert r["throughput_inf_per_s"] == pytest.approx(100e6 / 10)
    assert r["edp_Js"] == pytest.approx(r["total_pJ"] * 1e-12 * 20 / 100e6)
    assert r["area"]["LUT"] == 100


def sfq_report(switchings=1000.0, jj=100, latency_ps=1000.0):
    return {
        "graph": "tiny",
        "samples": 1,
        "accuracy_sfq": 1.0,
        "netlist": {"jj_count": jj, "cells": 10},
        "per_inference": {
            "switchings": switchings,
            "latency_ps": latency_ps,
            "events": 1.0,
            "synaptic_ops": 6.0,
            "total_J": 0.0,
            "static_J": 0.0,
        },
    }


def test_sfq_row_by_hand():
    r = targets.sfq(tiny_graph(), TECH["sfq"], sfq_report())
    dyn = 1000 * 100e-6 * PHI0
    static = 100 * 0.7 * 100e-6 * 2.6e-3 * 1000e-12  # 2.6 mV rail (sfq.yaml)
    assert r["breakdown"]["dynamic_pJ"] == pytest.approx(dyn * 1e12)
    assert r["total_pJ"] == pytest.approx((dyn + static) * 1e12)
    assert r["with_cooling_pJ"] == pytest.approx(r["total_pJ"] * 494)  # 1 + 493 W/W cooling
    assert r["area"]["jj_count"] == 100


def reram_report(graph, pulses=2, digits=3, xbar_j=1e-12):
    mapping = [
        {"layer": lay.name, "input_pulses": pulses, "weight_digits": digits} for lay in graph.layers
    ]
    dac = sum(pulses * lay.in_features for lay in graph.layers)
    adc = sum(pulses * lay.out_features * digits for lay in graph.layers)
    energy = {
        "per_inference": {"crossbar_read_j": xbar_j, "total_j": 0.0},
        "counts_per_inference": {
            "dac_conversions": dac,
            "adc_conversions": adc,
            "crossbar_reads": pulses,
        },
        "adc_bits": 9,
        "dac_bits": 7,
        "latency_s": 1e-6,
        "tiles": 1,
        "devices": 36,
    }
    return {"mapping": mapping, "default": {"accuracy": 0.5, "energy": energy}}


def test_reram_row_by_hand():
    g = tiny_graph()
    r = targets.reram(g, TECH["reram"], reram_report(g))
    dac = 2 * 3 * 0.41667 * 2**5  # pulses x rows x (1-bit DAC x 2^(7-2))
    adc = 2 * 2 * 3 * 1.666666667 * 2  # pulses x cols x digits x (8-bit ADC x 2^(9-8))
    shift = 12 * 0.021
    rq = 2 * (3.1 + 0.1)
    assert r["total_pJ"] == pytest.approx(1.0 + dac + adc + shift + rq)
    bad = reram_report(g)
    bad["default"]["energy"]["counts_per_inference"]["adc_conversions"] += 1
    with pytest.raises(CodesignError, match="differ from the simulator"):
        targets.reram(g, TECH["reram"], bad)


def test_snn_row_by_hand():
    snn = {
        "golden": {"sop_per_layer": {"fc0": 10.0, "fc1": 5.0}, "sop_per_sample": 15.0},
        "rtl_cycles_per_step": 100.0,
    }
    r = zoo.snn_asic45(TECH["asic45"], snn, {"steps": 4, "synapses": 20})
    assert r["total_pJ"] == pytest.approx(15 * 0.9)
    assert r["ann_equivalent_pJ"] == pytest.approx(20 * 4.6)
    assert r["latency_s"] == pytest.approx(400 / 1e9)


@settings(max_examples=30, deadline=None)
@given(a=st.integers(0, 24), b=st.integers(0, 24))
def test_more_toggles_never_lower_fpga_energy(a, b):
    lo, hi = sorted((a, b))
    e = [
        targets.fpga(tiny_graph(), TECH["fpga_xc7"], *fpga_inputs(k))["total_pJ"] for k in (lo, hi)
    ]
    assert e[1] >= e[0]


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_more_switchings_never_lower_sfq_energy(a, b):
    lo, hi = sorted((a, b))
    e = [targets.sfq(tiny_graph(), TECH["sfq"], sfq_report(k))["total_pJ"] for k in (lo, hi)]
    assert e[1] >= e[0]


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_more_spikes_never_lower_snn_energy(a, b):
    lo, hi = sorted((a, b))
    e = [
        zoo.snn_asic45(TECH["asic45"], {"golden": {"sop_per_layer": {"l": k}}}, {})["total_pJ"]
        for k in (lo, hi)
    ]
    assert e[1] >= e[0]


def test_mean_toggle_rate_is_bit_weighted():
    rows = [
        {"in_toggle_rate": 1.0, "act_bits_read": 10},
        {"in_toggle_rate": 0.0, "act_bits_read": 30},
    ]
    assert mean_toggle_rate(rows) == 0.25


def test_fpga_uses_the_rtl_trace_when_there_is_one():
    act, synth, rtl = fpga_inputs(alpha_bits=6)
    trace = {"rate": 0.5, "samples": 4, "bits": 100}
    r = targets.fpga(tiny_graph(), TECH["fpga_xc7"], act, synth, rtl, trace)
    assert r["activity"]["toggle_source"] == "rtl_vcd" and r["activity"]["toggle_rate"] == 0.5
    assert "VCD" in r["method"]
    lo = targets.fpga(tiny_graph(), TECH["fpga_xc7"], act, synth, rtl)
    assert r["total_pJ"] > lo["total_pJ"]  # 0.5 > 0.25 toggles
