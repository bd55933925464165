"""Digital 45 nm energy per inference of an IntGraph: op counts x Horowitz action energies.

Model (stated so users can disagree with it):
- multiply of a b_w-bit weight by a b_a-bit activation: 8x8 mult energy scaled by b_w*b_a/64
  (array-multiplier energy grows with the product of the widths);
- accumulate: 32-bit add energy scaled linearly to the accumulator width;
- requantisation: one acc x multiplier-bit multiply (32-bit mult scaled by area) per output;
- memory: every stored weight bit (POST: index bits; the codebook ROM is a few registers) and
  every input activation bit is read once per inference from an SRAM sized to hold all weights
  (activations: one layer's input), priced per 64-bit word for that size;
- activation stages (ASQ adapter and divider, AdaLog encoder/decoder): the operation counts
  each stage reports (`Stage.ops`), priced by STAGE_OP_PRICES: an 8-bit multiply-accumulate,
  an 8-bit add for a compare, a shift or a small-table read (a few-entry ROM is a mux tree of
  about an adder's size); ASQ reports its adds and requantisations by bit width
  ("add_bits", "mult_bits"), priced like the layers' own;
- a float32 baseline of the same shape (FP32 MAC, 32-bit weights) for comparison.
"""

from __future__ import annotations

from codesign.energy.constants import HOROWITZ_45NM as H
from codesign.energy.constants import SOURCE
from codesign.errors import CodesignError
from codesign.ir.graph import IntGraph


def stage_op_prices(h: dict) -> dict[str, float]:
    return {
        "mac": h["mult8"] + h["add32"],
        "mult": h["mult8"],
        "add": h["add32"],
        "compare": h["add8"],
        "shift": h["add8"],
        "lut": h["add8"],
        # per bit of width, as the layers' own adds and requantisations are priced below
        "add_bits": h["add32"] / 32,
        "mult_bits": h["mult32"] / 1024,
    }


def stage_pj(lay, h: dict = H) -> float:
    """Energy of a layer's activation stages per inference (0 for a plain layer)."""
    prices = stage_op_prices(h)
    total = 0.0
    for st in lay.stages:
        feats = lay.in_features if st is lay.in_stage else lay.out_features
        for op, n in st.ops(feats).items():
            if op not in prices:
                raise CodesignError(
                    f"layer '{lay.name}': stage '{st.kind}' reports unknown operation '{op}' "
                    f"(priced: {', '.join(prices)})"
                )
            total += n * prices[op]
    return total


def sram_pj_per_bit(size_bytes: float, h: dict = H) -> float:
    """Energy per bit read from an SRAM of `size_bytes` (the smallest listed array that fits)."""
    for cap, pj in h["sram64"]:
        if size_bytes <= cap:
            return pj / 64.0
    return h["sram64"][-1][1] / 64.0


def estimate(graph: IntGraph, h: dict = H) -> dict:
    """Per-layer rows and totals in pJ per inference; `h`: the action energies (pJ) to price
    with (constants.horowitz of a technology file; the shipped 45 nm one by default)."""
    weight_bytes = sum(lay.weight.size * lay.weight_bits for lay in graph.layers) / 8
    w_pj_bit = sram_pj_per_bit(weight_bytes, h)
    rows = []
    for lay in graph.layers:
        wb, ab, acc = lay.weight_int_bits, lay.in_q.bits, lay.acc_bits
        mb = (lay.in_stage.decoded_q if lay.in_stage is not None else lay.in_q).bits
        act_pj_bit = sram_pj_per_bit(lay.in_features * ab / 8, h)
        weight_bits_read = lay.macs * lay.weight_bits
        act_bits_read = lay.in_features * ab
        mult = lay.macs * h["mult8"] * wb * mb / 64  # decoded width (AdaLog codes are decoded)
        add = lay.macs * h["add32"] * acc / 32
        requant = lay.out_features * h["mult32"] * acc * lay.requant.multiplier_bits / 1024
        if lay.dyn_in:  # the accumulator times the per-sample factor g before the bias
            g_bits = int(lay.attrs.get("dyn_max", 255)).bit_length()
            requant += lay.out_features * h["mult32"] * acc * g_bits / 1024
        stage = stage_pj(lay, h)
        wmem = weight_bits_read * w_pj_bit
        amem = act_bits_read * act_pj_bit
        fp32 = lay.macs * (h["fmult32"] + h["fadd32"] + 32 * w_pj_bit) + lay.in_features * 32 * (
            act_pj_bit
        )
        rows.append(
            {
                "layer": lay.name,
                "macs": lay.macs,
                "weight_bits": lay.weight_bits,
                "mult_bits": [wb, mb],
                "acc_bits": acc,
                "weight_bits_read": weight_bits_read,
                "act_bits_read": act_bits_read,
                "mult_pJ": mult,
                "add_pJ": add,
                "requant_pJ": requant,
                "weight_mem_pJ": wmem,
                "act_mem_pJ": amem,
                "stage_pJ": stage,
                "total_pJ": mult + add + requant + wmem + amem + stage,
                "fp32_baseline_pJ": fp32,
            }
        )
    total = sum(r["total_pJ"] for r in rows)
    return {
        "model": graph.name,
        "target": "asic45",
        "total_pJ": total,
        "fp32_baseline_pJ": sum(r["fp32_baseline_pJ"] for r in rows),
        "macs": sum(r["macs"] for r in rows),
        "weight_memory_bits": int(sum(lay.weight.size * lay.weight_bits for lay in graph.layers)),
        "layers": rows,
        "source": SOURCE,
        "assumptions": __doc__.split("Model (stated so users can disagree with it):")[1].strip(),
    }


def table(report: dict) -> str:
    """A printable per-layer table."""
    head = f"{'layer':<8}{'MACs':>8}{'mult':>9}{'add':>9}{'requant':>9}{'w-mem':>9}"
    head += f"{'a-mem':>9}{'total pJ':>10}"
    lines = [head]
    for r in report["layers"]:
        lines.append(
            f"{r['layer']:<8}{r['macs']:>8}{r['mult_pJ']:>9.1f}{r['add_pJ']:>9.1f}"
            f"{r['requant_pJ']:>9.1f}{r['weight_mem_pJ']:>9.1f}{r['act_mem_pJ']:>9.1f}"
            f"{r['total_pJ']:>10.1f}"
        )
    lines.append(f"{'total':<8}{report['macs']:>8}{'':>45}{report['total_pJ']:>10.1f}")
    lines.append(f"float32 baseline of the same shape: {report['fp32_baseline_pJ']:.1f} pJ")
    return "\n".join(lines)
