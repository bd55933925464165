"""Energy per inference of a mapped graph: crossbar reads, DAC/ADC conversions, digital periphery.

Crossbar read energy is measured during the run (sum over reads of sum_ij G_ij V_i^2 t_read,
both devices of every pair). Converter and digital energies are event counts times the
constants below. Counts come from the tiles' counters, so run the inferences first.
"""

from __future__ import annotations

import math

from codesign.sim.reram.mapping import MappedGraph

# ISAAC (Shafiee et al., ISCA 2016), 32 nm, as tabulated in Accelergy's hwcomponents library
# (isaac.py): 8-bit SAR ADC 16 mW / (8 ADCs x 1.2 GS/s) = 1.667 pJ per conversion, scaled x2 per
# extra bit; 1-bit DAC 0.41667 pJ per conversion, x2 per extra bit; 16-bit shift-and-add
# 0.021 pJ.
ADC_8BIT_J = 1.666666667e-12
ADC_RATE_HZ = 1.2e9
DAC_1BIT_J = 0.41667e-12
SHIFT_ADD_J = 0.021e-12
# Horowitz, ISSCC 2014, 45 nm 0.9 V: 32-bit multiply 3.1 pJ, 32-bit add 0.1 pJ (requantisation).
MULT32_J = 3.1e-12
ADD32_J = 0.1e-12


def adc_energy_j(bits: int) -> float:
    """Energy of one conversion of a `bits`-bit ADC (ISAAC's 8-bit value, x2 per bit)."""
    return ADC_8BIT_J * 2.0 ** (bits - 8)


def dac_energy_j(bits: int) -> float:
    """One conversion of a signed `bits` DAC: bits-1 magnitude bits (ISAAC 1-bit value x2/bit)."""
    return DAC_1BIT_J * 2.0 ** (bits - 2)


def energy_breakdown(mapped: MappedGraph, n_inferences: int) -> dict:
    """Energy per inference (J) by component, with the event counts and MACs behind it."""
    cfg = mapped.config
    if n_inferences <= 0:
        raise ValueError("n_inferences must be > 0")
    reads = dac = adc = 0
    e_array = 0.0
    adc_bits_used = []
    for tile in mapped.tiles():
        reads += tile.n_reads
        dac += tile.n_reads * tile.rows
        adc += tile.n_reads * tile.cols
        e_array += tile.e_array_j
        if cfg.adc_bits is None:  # lossless: the resolution its worst-case range needs
            adc_bits_used.append(int(math.ceil(math.log2(tile.bound.max() + 1))) + 1)
    adc_bits = cfg.adc_bits if cfg.adc_bits is not None else max(adc_bits_used, default=2)
    outputs = sum(ml.layer.out_features for ml in mapped.layers)
    e_dac = dac * dac_energy_j(cfg.dac_bits)
    e_adc = adc * adc_energy_j(adc_bits)
    e_shift = adc * SHIFT_ADD_J
    e_requant = outputs * n_inferences * (MULT32_J + ADD32_J)
    n = float(n_inferences)
    per = {
        "crossbar_read_j": e_array / n,
        "dac_j": e_dac / n,
        "adc_j": e_adc / n,
        "shift_add_j": e_shift / n,
        "requant_j": e_requant / n,
    }
    per["total_j"] = sum(per.values())
    # latency: tiles of a layer work in parallel, layers in sequence; a read is t_read plus
    # `adc_share` conversions per ADC.
    t_layer = []
    for ml in mapped.layers:
        pulses = ml.xenc.n
        t_layer.append(pulses * (cfg.t_read_s + cfg.adc_share / ADC_RATE_HZ))
    return {
        "per_inference": per,
        "counts_per_inference": {
            "crossbar_reads": reads / n,
            "dac_conversions": dac / n,
            "adc_conversions": adc / n,
            "shift_adds": adc / n,
            "requant_outputs": outputs,
        },
        "macs_per_inference": sum(ml.layer.macs for ml in mapped.layers),
        "devices": sum(t.n_devices for t in mapped.tiles()),
        "tiles": len(mapped.tiles()),
        "adc_bits": adc_bits,
        "dac_bits": cfg.dac_bits,
        "latency_s": sum(t_layer),
        "constants": {
            "adc_8bit_j": ADC_8BIT_J,
            "dac_1bit_j": DAC_1BIT_J,
            "shift_add_j": SHIFT_ADD_J,
            "mult32_j": MULT32_J,
            "add32_j": ADD32_J,
            "sources": "ISAAC (Shafiee et al., ISCA 2016; 32 nm, via Accelergy hwcomponents "
            "isaac.py) for ADC/DAC/shift-add; Horowitz ISSCC 2014 (45 nm) for requantisation",
        },
    }


def reset_counters(mapped: MappedGraph) -> None:
    """Zero the tiles' read/energy counters (before a measured run)."""
    for tile in mapped.tiles():
        tile.reset_counters()
