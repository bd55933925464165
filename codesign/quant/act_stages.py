"""Activation stages after a hidden layer's fixed-point ReLU: ASQ and AdaLog.

A stage module takes the layer's 8-bit power-of-two QuantTensor `u` and returns an object with
  .value        real values the next layer consumes (fake-quantised, differentiable),
  .scale        scale such that value / scale are the integers the stage emits (may be per sample),
  .bias_scale   the static scale of the next layer's input grid (its bias is rounded to
                bias_scale * weight_scale),
  .int_repr()   the integer codes the stage emits (what the golden model records for the layer).
In export mode it emits its own ONNX op, which the QONNX frontend reads into the one graph
(codesign/graph/frontends/qonnx.py) and codesign/ir/chain.py lowers to an IntGraph stage.
"""

from __future__ import annotations

from torch import nn

from codesign.errors import CodesignError

ACT_QUANTS = ("fixed", "asq", "adalog")


def make_act_stage(kind: str, channels: int, bits: int, **kw) -> nn.Module | None:
    """'fixed' (no stage: the ReLU's own power-of-two quantizer), 'asq' or 'adalog'."""
    if kind == "fixed":
        return None
    if kind == "asq":
        from codesign.quant.asq import AsqStage

        return AsqStage(channels, bits, **kw)
    if kind == "adalog":
        from codesign.quant.adalog import AdaLogStage

        return AdaLogStage(channels, bits, **kw)
    raise CodesignError(f"unknown activation quantizer '{kind}' (choose {', '.join(ACT_QUANTS)})")
