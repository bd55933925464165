"""digits_mlp: 64 -> 64 -> 32 -> 10 MLP on sklearn digits, W4 POST / A8 (the first zoo model).

Activations use brevitas power-of-two fixed-point quantizers (uint8 after ReLU, int8 logits), so
every requantisation multiplier is an exact integer; weights use a codesign quantizer.
"""

from __future__ import annotations

import brevitas.nn as qnn
import torch
from brevitas.quant import Int8ActPerTensorFixedPoint, Uint8ActPerTensorFixedPoint
from torch import nn

from codesign.quant.act_stages import make_act_stage
from codesign.quant.linear import QuantLinear, make_weight_quant

SIZES = (64, 64, 32, 10)


class FloatMLP(nn.Module):
    """The float baseline with the same shape."""

    def __init__(self, sizes: tuple[int, ...] = SIZES) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class QuantMLP(nn.Module):
    """Input quant -> [QuantLinear -> QuantReLU]* -> QuantLinear -> int8 logits."""

    def __init__(
        self,
        sizes: tuple[int, ...] = SIZES,
        weight_quant: str = "post",
        weight_bits: int = 4,
        act_bits: int = 8,
        act_quant: str = "fixed",
        act_quant_args: dict | None = None,
    ) -> None:
        super().__init__()
        # With an activation stage (ASQ/AdaLog) the ReLU keeps a fine 8-bit grid and the stage
        # emits the `act_bits`-bit codes; with "fixed" the ReLU itself quantizes to act_bits.
        relu_bits = act_bits if act_quant == "fixed" else 8
        self.stages = nn.ModuleList()
        self.inp = qnn.QuantIdentity(
            act_quant=Uint8ActPerTensorFixedPoint, bit_width=act_bits, return_quant_tensor=True
        )
        self.fcs = nn.ModuleList()
        self.acts = nn.ModuleList()
        n = len(sizes) - 1
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            self.fcs.append(QuantLinear(a, b, make_weight_quant(weight_quant, b, weight_bits)))
            if i < n - 1:
                act = qnn.QuantReLU(
                    act_quant=Uint8ActPerTensorFixedPoint,
                    bit_width=relu_bits,
                    return_quant_tensor=True,
                )
                stage = make_act_stage(act_quant, b, act_bits, **(act_quant_args or {}))
                self.stages.append(stage if stage is not None else nn.Identity())
            else:
                act = qnn.QuantIdentity(
                    act_quant=Int8ActPerTensorFixedPoint,
                    bit_width=act_bits,
                    return_quant_tensor=True,
                )
            self.acts.append(act)

    def layer_names(self) -> list[str]:
        return [f"fc{i}" for i in range(len(self.fcs))]

    def init_from_float(self, fm: FloatMLP) -> None:
        """Start QAT from the trained float baseline; alpha/step from the weights (POST rule)."""
        lins = [m for m in fm.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for q, f in zip(self.fcs, lins, strict=True):
                q.weight.copy_(f.weight)
                q.bias.copy_(f.bias)
                q.weight_quant.init_from(q.weight)

    def forward_layers(self, x: torch.Tensor) -> list:
        """QuantTensors after the input quantizer and after every layer's output quantizer."""
        qt = self.inp(x)
        outs = [qt]
        for i, (fc, act) in enumerate(zip(self.fcs, self.acts, strict=True)):
            qt = act(fc(qt.value, getattr(qt, "bias_scale", qt.scale)))
            if i < len(self.stages):
                qt = self.stages[i](qt)
            outs.append(qt)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_layers(x)[-1].value

    @torch.no_grad()
    def calibrate_stages(self, x: torch.Tensor) -> None:
        """Let stages with a `calibrate(qt)` method (AdaLog's base search) see the training data.

        One training-mode pass, so the ReLU quantizers first set their scales from these
        statistics (as on the first QAT step) and the stages see the integers QAT starts from.
        """
        if not any(hasattr(s, "calibrate") for s in self.stages):
            return
        self.train()
        qt = self.inp(x)
        for i, (fc, act) in enumerate(zip(self.fcs, self.acts, strict=True)):
            qt = act(fc(qt.value, getattr(qt, "bias_scale", qt.scale)))
            if i < len(self.stages):
                if hasattr(self.stages[i], "calibrate"):
                    self.stages[i].calibrate(qt)
                qt = self.stages[i](qt)

    @torch.no_grad()
    def freeze_for_export(self, x: torch.Tensor | None) -> None:
        """Enter export mode (weights/biases as constants for the tracer); None leaves it."""
        if x is None:
            for fc in self.fcs:
                fc.freeze(None)
            return
        self.eval()
        outs = self.forward_layers(x)
        for fc, qt in zip(self.fcs, outs[:-1], strict=True):
            fc.freeze(getattr(qt, "bias_scale", qt.scale))


DEFAULTS = {
    "quant": {
        "weight_quant": "post",
        "weight_bits": 4,
        "act_bits": 8,
        "act_quant": "fixed",
        "act_quant_args": {},
    },
    "train": {
        "seed": 0,
        "float_epochs": 60,
        "qat_epochs": 40,
        "batch_size": 64,
        "lr_float": 0.01,
        "lr_qat": 0.003,
    },
}


def config(overrides: dict | None = None) -> dict:
    """Defaults < flows/digits_mlp.yaml < overrides, checked (codesign/config.py)."""
    from codesign.config import load

    return load("digits_mlp", DEFAULTS, overrides)


def build(cfg: dict) -> QuantMLP:
    q = cfg["quant"]
    return QuantMLP(
        SIZES,
        q["weight_quant"],
        int(q["weight_bits"]),
        int(q["act_bits"]),
        q.get("act_quant", "fixed"),
        q.get("act_quant_args") or {},
    )


def data():
    from codesign.data.digits import digits_split

    return digits_split()


def example_input() -> torch.Tensor:
    return torch.as_tensor(data()[2][:1])


def train(cfg: dict) -> tuple[FloatMLP, QuantMLP, dict]:
    """Float baseline first, then QAT initialised from it (alpha from the trained weights)."""
    from codesign.models.training import accuracy, fit, seed_everything

    t = cfg["train"]
    xtr, ytr, xte, yte = data()
    seed_everything(int(t["seed"]))
    fm = fit(
        FloatMLP(SIZES),
        xtr,
        ytr,
        int(t["float_epochs"]),
        float(t["lr_float"]),
        int(t["batch_size"]),
        int(t["seed"]),
        "float",
    )
    seed_everything(int(t["seed"]))
    qm = build(cfg)
    qm.init_from_float(fm)
    qm.calibrate_stages(torch.as_tensor(xtr))
    qm = fit(
        qm,
        xtr,
        ytr,
        int(t["qat_epochs"]),
        float(t["lr_qat"]),
        int(t["batch_size"]),
        int(t["seed"]),
        "QAT",
    )
    metrics = {"accuracy_float": accuracy(fm, xte, yte), "accuracy_quant": accuracy(qm, xte, yte)}
    return fm, qm, metrics
