"""45 nm energy per inference of a one-graph model: each op's own counts x Horowitz energies.

Model (stated so users can disagree with it), with widths from the graph's worst-case ranges:
- Dense/Conv: per MAC a b_w x b_a multiply (8x8 multiply energy x b_w*b_a/64), an add at the
  accumulator width (32-bit add x acc/32) and a read of the weight's bits from an SRAM sized to
  hold every weight; each input activation bit is read once from an SRAM sized for that input;
- Requant: multiply-shift form, one acc x multiplier-bit multiply per output (32-bit multiply x
  area ratio); threshold form, a binary search, log2(levels) compares at the accumulator width;
- pooling, Add, Clip, Quantize: their compares/adds at the tensor's width;
- Mul (ASQ's per-sample factor): a multiply at the two widths; AsqDivide: a restoring division,
  one compare-subtract at the divisor's width per quotient bit; Lookup: a table read;
- a float32 baseline of the same shape (FP32 MAC, 32-bit weights and activations).
An op that reports a count this table cannot price is an error, never a silent zero.
"""

from __future__ import annotations

import numpy as np

from codesign.energy.constants import HOROWITZ_45NM as H
from codesign.energy.constants import SOURCE
from codesign.energy.digital import sram_pj_per_bit
from codesign.errors import CodesignError
from codesign.graph import ops
from codesign.graph.core import Graph, signed_bits

LINEAR = ("Dense", "Conv")


def _weight_bits(w: np.ndarray) -> int:
    return max(1, signed_bits(int(w.min()), int(w.max())))


def _width(graph: Graph, name: str) -> int:
    t = graph.tensors[name]
    return 32 if t.itype is None else t.itype.bits


def estimate(graph: Graph) -> dict:
    """Per-node rows and totals in pJ per inference."""
    weights = [n for n in graph.nodes if n.op in LINEAR]
    weight_bits_total = sum(
        int(n.params["weight"].size) * _weight_bits(n.params["weight"]) for n in weights
    )
    w_pj_bit = sram_pj_per_bit(weight_bits_total / 8)
    rows = []
    for node in graph.nodes:
        counts = ops.get(node.op).count(node, graph)
        in_bits = _width(graph, node.inputs[0])
        out_bits = _width(graph, node.outputs[0])
        row = {"layer": node.name, "op": node.op, "macs": 0, "mult_pJ": 0.0, "add_pJ": 0.0}
        row.update({"requant_pJ": 0.0, "weight_mem_pJ": 0.0, "act_mem_pJ": 0.0, "other_pJ": 0.0})
        fp32 = 0.0
        for key, n in counts.items():
            if key == "mac":
                wb = _weight_bits(node.params["weight"])
                in_size = int(np.prod(graph.tensors[node.inputs[0]].shape))
                act_pj_bit = sram_pj_per_bit(in_size * in_bits / 8)
                row["macs"] = n
                row["mult_bits"] = [wb, in_bits]
                row["acc_bits"] = out_bits
                row["mult_pJ"] = n * H["mult8"] * wb * in_bits / 64
                row["add_pJ"] = n * H["add32"] * out_bits / 32
                row["weight_mem_pJ"] = n * wb * w_pj_bit
                row["act_mem_pJ"] = in_size * in_bits * act_pj_bit
                fp32 = n * (H["fmult32"] + H["fadd32"] + 32 * w_pj_bit)
                fp32 += in_size * 32 * sram_pj_per_bit(in_size * 4)
            elif key == "requant":
                mb = max(1, int(np.abs(node.params["mult"]).max()).bit_length())
                row["requant_pJ"] = n * H["mult32"] * in_bits * mb / 1024
            elif key in ("compare", "add"):
                width = in_bits if node.op != "SumPool" else out_bits
                row["other_pJ" if node.op != "Requant" else "requant_pJ"] += (
                    n * H["add32"] * width / 32
                )
            elif key == "mult":  # a dynamic factor (ASQ's g) times an accumulator
                g_bits = _width(graph, node.inputs[1])
                row["mult_pJ"] += n * H["mult8"] * in_bits * g_bits / 64
            elif key == "divide":  # restoring division: one compare-subtract per quotient bit
                steps = out_bits + 1
                row["other_pJ"] += n * steps * H["add32"] * _width(graph, node.inputs[1]) / 32
            elif key == "lut":  # a decoder table read, from an SRAM holding the table
                table = node.params["table"]
                pj = sram_pj_per_bit(len(table) * out_bits / 8)
                row["other_pJ"] += n * out_bits * pj
            else:
                raise CodesignError(
                    f"node '{node.name}' ({node.op}) reports '{key}', which the 45 nm model "
                    "cannot price"
                )
        row["total_pJ"] = sum(v for k, v in row.items() if k.endswith("_pJ"))
        row["fp32_baseline_pJ"] = fp32
        rows.append(row)
    return {
        "model": graph.name,
        "target": "asic45",
        "total_pJ": sum(r["total_pJ"] for r in rows),
        "fp32_baseline_pJ": sum(r["fp32_baseline_pJ"] for r in rows),
        "macs": sum(r["macs"] for r in rows),
        "weight_memory_bits": int(weight_bits_total),
        "layers": rows,
        "source": SOURCE,
        "assumptions": __doc__.split("\n\n", 1)[1].strip(),
    }


def table(report: dict) -> str:
    head = f"{'layer':<22}{'op':<9}{'MACs':>10}{'mult':>10}{'add':>9}{'requant':>9}"
    head += f"{'w-mem':>10}{'a-mem':>9}{'total pJ':>11}"
    lines = [head]
    for r in report["layers"]:
        lines.append(
            f"{r['layer'][:21]:<22}{r['op']:<9}{r['macs']:>10}{r['mult_pJ']:>10.1f}"
            f"{r['add_pJ']:>9.1f}{r['requant_pJ']:>9.1f}{r['weight_mem_pJ']:>10.1f}"
            f"{r['act_mem_pJ']:>9.1f}{r['total_pJ']:>11.1f}"
        )
    lines.append(f"{'total':<31}{report['macs']:>10}{'':>47}{report['total_pJ']:>11.1f}")
    lines.append(f"float32 baseline of the same shape: {report['fp32_baseline_pJ']:.1f} pJ")
    return "\n".join(lines)
