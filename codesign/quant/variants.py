"""Named quantizer variants for the comparison table (`codesign quantizers`).

A variant fixes the weight quantizer and the activation stage; `bits` applies to both the weights
and the activations (digits_mlp applies act_bits to its input and logits too), so every row compares
the same bit budget.
"""

from __future__ import annotations

from codesign.errors import CodesignError

VARIANTS: dict[str, dict[str, str]] = {
    "uniform": {"weight_quant": "uniform", "act_quant": "fixed"},
    "post2": {"weight_quant": "post2", "act_quant": "fixed"},
    "post": {"weight_quant": "post", "act_quant": "fixed"},
    "asq_post": {"weight_quant": "post", "act_quant": "asq"},
    "adalog": {"weight_quant": "post", "act_quant": "adalog"},
}

LABELS = {
    "uniform": "uniform per-channel W, fixed-point A",
    "post2": "POST b=2 W, fixed-point A",
    "post": "POST b=sqrt2 W, fixed-point A",
    "asq_post": "POST b=sqrt2 W, ASQ A",
    "adalog": "POST b=sqrt2 W, AdaLog A",
}


def quant_overrides(variant: str, bits: int | None) -> dict:
    """flow `quant` overrides for a variant at `bits` (weights and hidden activations)."""
    if variant not in VARIANTS:
        raise CodesignError(f"unknown quantizer variant '{variant}' (choose {', '.join(VARIANTS)})")
    out: dict = dict(VARIANTS[variant])
    if bits is not None:
        out.update(weight_bits=bits, act_bits=bits)
    return out
