"""A corpus of *external* quantized QONNX models, built the way a user gets them from brevitas.

Our QONNX importer must not only read files our own exporter writes: this corpus holds the
models a user brings, so the importer can be checked against qonnx's own executor.

- FINN's end-to-end networks (TFC/SFC/LFC/CNV, brevitas_examples.bnn_pynq) at w1a1, w1a2,
  w2a2. Pretrained weights cannot be downloaded here, so weights are random (seeded) and the
  BatchNorm/TensorNorm statistics are calibrated on digits, which keeps every quantized
  activation non-degenerate (a random net with identity BatchNorm binarizes to constants).
- `brevitas_mlp` / `brevitas_lenet`: small nets with brevitas' *default* quantizers (float,
  non power-of-two scales, float bias), trained briefly on sklearn digits.
- `brevitas_fixed_mlp`: 64 -> 16 -> 10 with brevitas' fixed-point quantizers, the form our
  MVU chain takes to RTL and a bitstream.
- `qonnx_data_models()`: the quantized models shipped inside the installed qonnx package.

Every build is deterministic: the same seed gives a byte-identical .onnx file.
"""

from __future__ import annotations

import importlib.resources
import re
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from codesign.atomic import atomic_path
from codesign.errors import CodesignError
from codesign.models.training import deterministic

# FINN's bnn_pynq networks: our name -> (brevitas_examples config, weight bits override).
# brevitas_examples ships no lfc_2w2a config: lfc_w2a2 is lfc_1w2a with 2-bit weights, built
# by the same `fc(cfg)` constructor (FINN's end-to-end tests never use an LFC w2a2 either).
_BNN: dict[str, tuple[str, int | None]] = {
    f"{arch}_w{w}a{a}": (f"{arch}_{w}w{a}a", None)
    for arch in ("tfc", "sfc", "lfc", "cnv")
    for w, a in ((1, 1), (1, 2), (2, 2))
}
_BNN["lfc_w2a2"] = ("lfc_1w2a", 2)

_OWN = ("brevitas_mlp", "brevitas_lenet", "brevitas_fixed_mlp")

NAMES: tuple[str, ...] = (*_BNN, *_OWN)

# Input layout per model family (batch dimension excluded).
_SHAPES = {
    "fc": (1, 28, 28),
    "cnv": (3, 32, 32),
    "mlp": (64,),
    "fixed_mlp": (64,),
    "lenet": (1, 8, 8),
}

_TRAIN_FRACTION = 0.55  # digits[:55%] train / calibrate, digits[55%:] sample inputs
_CALIB_SAMPLES = 256  # BatchNorm calibration batch (CNV forward cost dominates)
_QUANT_OPS = frozenset({"Quant", "BipolarQuant", "FloatQuant", "MultiThreshold"})

# Short names for the quantized files qonnx ships (paths relative to qonnx/data/onnx).
_QONNX_DATA_NAMES = {
    "bsd300x3-espcn/subpixel/quant_model.onnx": "espcn_subpixel",
    "bsd300x3-espcn/nn_resize/quant_model.onnx": "espcn_nn_resize",
    "eltwise_chanlast_testcase.onnx": "eltwise_chanlast",
    "floatquant_exec/qonnx_act_weight_fp8.onnx": "fp8_gemm",
}


def _family(name: str) -> str:
    if name not in NAMES:
        raise CodesignError(f"corpus: unknown model {name!r} (known: {', '.join(NAMES)})")
    if name in _OWN:
        return name.removeprefix("brevitas_")
    return "cnv" if name.startswith("cnv") else "fc"


def input_shape(name: str) -> tuple[int, ...]:
    """The exported graph's input shape: batch 1, since qonnx's executor wants exact shapes."""
    return (1, *_SHAPES[_family(name)])


# ----------------------------------------------------------------------------- data


@cache
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn digits as 8x8 images in [0, 1], split by position (fixed, no shuffling)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    k = int(_TRAIN_FRACTION * len(x))
    return x[:k], y[:k], x[k:], y[k:]


def _to_input(family: str, img8: np.ndarray) -> np.ndarray:
    """8x8 digits -> the model's layout, in [0, 1] (bnn_pynq feeds ToTensor() pixels and maps
    them to [-1, 1] inside forward()). MNIST-like: digit zoomed to 20x20 in a 28x28 frame;
    CIFAR-like: zoomed to fill 32x32, replicated on 3 channels. Bilinear zoom, deterministic."""
    from scipy.ndimage import zoom

    n = len(img8)
    if family in ("mlp", "fixed_mlp"):
        out = img8.reshape(n, 64)
    elif family == "lenet":
        out = img8.reshape(n, 1, 8, 8)
    elif family == "fc":
        out = np.zeros((n, 1, 28, 28), np.float32)
        for i, im in enumerate(img8):
            out[i, 0, 4:24, 4:24] = zoom(im, 2.5, order=1)
    else:
        out = np.stack([zoom(im, 4.0, order=1) for im in img8])[:, None]
        out = np.repeat(out, 3, axis=1)
    return np.ascontiguousarray(np.clip(out, 0.0, 1.0), dtype=np.float32)


def sample_inputs(name: str, n: int, seed: int = 0) -> np.ndarray:
    """`n` float32 inputs (batch n, the model's layout) from the digits test half, so runs of the
    importer see realistic, not random, activations. The seed picks the order; cycles if needed."""
    family = _family(name)
    x_test = _digits()[2]
    order = np.random.default_rng(seed).permutation(len(x_test))
    idx = order[np.arange(n) % len(order)]
    return _to_input(family, x_test[idx])


# ----------------------------------------------------------------------------- models


def _bnn_model(name: str) -> nn.Module:
    """A bnn_pynq network with random weights and calibrated, randomised normalisation.

    BatchNorm/TensorNorm get a random affine (|gamma| in [0.5, 1.5], ~10% negative as in trained
    BNNs; beta in [-0.25, 0.25]) and running statistics measured in train mode on digits, so
    every quantizer sees a spread of values around its thresholds.
    """
    from brevitas_examples.bnn_pynq.models import get_model_cfg, model_impl, model_with_cfg
    from brevitas_examples.bnn_pynq.models.tensor_norm import TensorNorm

    cfg_name, weight_bits = _BNN[name]
    if weight_bits is None:
        model, _ = model_with_cfg(cfg_name, pretrained=False)
    else:  # what model_with_cfg does, with the weight width overridden
        cfg = get_model_cfg(cfg_name)
        cfg.set("QUANT", "WEIGHT_BIT_WIDTH", str(weight_bits))
        model = model_impl[cfg.get("MODEL", "ARCH")](cfg)

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tnorms = [m for m in model.modules() if isinstance(m, TensorNorm)]
    with torch.no_grad():
        for m in norms:
            sign = torch.where(torch.rand_like(m.weight) < 0.1, -1.0, 1.0)
            m.weight.copy_(sign * (0.5 + torch.rand_like(m.weight)))
            m.bias.copy_(0.5 * torch.rand_like(m.bias) - 0.25)
        for m in tnorms:  # the output scale: positive, like a trained TensorNorm
            m.weight.copy_(0.5 + torch.rand_like(m.weight))
            m.bias.copy_(0.5 * torch.rand_like(m.bias) - 0.25)

    # Calibrate: only the norm layers in train mode (Dropout stays off); BatchNorm with a
    # cumulative average (momentum None), TensorNorm takes the batch statistics (momentum 1).
    model.eval()
    momenta = [m.momentum for m in norms + tnorms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for m in tnorms:
        m.momentum = 1.0
        m.train()
    x = torch.from_numpy(_to_input(_family(name), _digits()[0][:_CALIB_SAMPLES]))
    with torch.no_grad():
        model(x)
    for m, mom in zip(norms + tnorms, momenta, strict=True):
        m.momentum = mom
    return model.eval()


class _MLP(nn.Module):
    """64 -> 64 -> 32 -> 10 as the brevitas tutorial writes it: default quantizers throughout."""

    def __init__(self) -> None:
        super().__init__()
        import brevitas.nn as qnn

        self.quant_inp = qnn.QuantIdentity(return_quant_tensor=True)
        self.fc1 = qnn.QuantLinear(64, 64, bias=True)
        self.relu1 = qnn.QuantReLU()
        self.fc2 = qnn.QuantLinear(64, 32, bias=True)
        self.relu2 = qnn.QuantReLU()
        self.fc3 = qnn.QuantLinear(32, 10, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quant_inp(x)
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        return self.fc3(x)


def fixed_point_mlp() -> nn.Module:
    """64 -> 16 -> 10 with brevitas' fixed-point quantizers (power-of-two scales, bias on the
    accumulator grid): the form our own MVU chain runs, so an import of it reaches RTL."""
    from brevitas import nn as qnn
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Int32Bias,
        Uint8ActPerTensorFixedPoint,
    )

    lin = {"weight_quant": Int8WeightPerTensorFixedPoint, "bias_quant": Int32Bias}
    return nn.Sequential(
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True),
        qnn.QuantLinear(64, 16, return_quant_tensor=True, **lin),
        qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        qnn.QuantLinear(16, 10, return_quant_tensor=True, **lin),
        qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint),
    )


class _LeNet(nn.Module):
    """LeNet-style CNN on 1x8x8 digits with brevitas' default quantizers."""

    def __init__(self) -> None:
        super().__init__()
        import brevitas.nn as qnn

        self.quant_inp = qnn.QuantIdentity(return_quant_tensor=True)
        self.conv1 = qnn.QuantConv2d(1, 6, 3, padding=1, bias=True)
        self.relu1 = qnn.QuantReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = qnn.QuantConv2d(6, 16, 3, bias=True)
        self.relu2 = qnn.QuantReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = qnn.QuantLinear(16, 32, bias=True)
        self.relu3 = qnn.QuantReLU()
        self.fc2 = qnn.QuantLinear(32, 10, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quant_inp(x)
        x = self.pool1(self.relu1(self.conv1(x)))  # 6x8x8 -> 6x4x4
        x = self.pool2(self.relu2(self.conv2(x)))  # 16x2x2 -> 16x1x1
        x = torch.flatten(x, 1)
        x = self.relu3(self.fc1(x))
        return self.fc2(x)


# class, epochs, Adam lr
_TRAIN = {
    "mlp": (_MLP, 8, 0.01),
    "lenet": (_LeNet, 12, 0.01),
    "fixed_mlp": (fixed_point_mlp, 8, 0.01),
}


def _trained_model(family: str) -> nn.Module:
    """Quantization-aware training for a few epochs (seconds on one CPU thread)."""
    cls, epochs, lr = _TRAIN[family]
    model = cls()
    x_tr, y_tr = _digits()[:2]
    x = torch.from_numpy(_to_input(family, x_tr))
    y = torch.from_numpy(y_tr)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, ()).item()))
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def _quant_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    from brevitas.nn import QuantIdentity, QuantReLU

    return [(n, m) for n, m in model.named_modules() if isinstance(m, QuantIdentity | QuantReLU)]


def activation_levels(model: nn.Module, x: np.ndarray) -> dict[str, int]:
    """Distinct values each activation quantizer emits on `x` (1 means a degenerate layer)."""
    seen: dict[str, torch.Tensor] = {}
    hooks = []
    for lname, mod in _quant_layers(model):

        def hook(_m, _i, out, lname=lname):
            seen[lname] = getattr(out, "value", out).detach()

        hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.from_numpy(x))
    finally:
        for h in hooks:
            h.remove()
    return {k: int(torch.unique(v).numel()) for k, v in seen.items()}


def _model(name: str) -> nn.Module:
    family = _family(name)
    return _trained_model(family) if name in _OWN else _bnn_model(name)


# ----------------------------------------------------------------------------- export


def build(name: str, folder: Path, seed: int = 0) -> Path:
    """Write `folder/<name>.onnx` (brevitas export_qonnx + qonnx cleanup_model) and return it.

    Same seed, same bytes. Raises CodesignError if some quantized activation is constant on the
    sample inputs: such a model would let a broken importer pass.
    """
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    example = torch.from_numpy(sample_inputs(name, 1, seed))
    with deterministic(seed, threads=1):
        model = _model(name)
        levels = activation_levels(model, sample_inputs(name, 64, seed))
        flat = [k for k, v in levels.items() if v < 2]
        if flat:
            raise CodesignError(f"corpus {name}: constant quantized activations in {flat}")
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{name}.") as tmp:
            raw = Path(tmp) / "raw.onnx"
            export_qonnx(model, example, str(raw), dynamo=False)
            clean = cleanup_model(ModelWrapper(str(raw)))
    out = folder / f"{name}.onnx"
    with atomic_path(out) as tmp_out:
        clean.save(str(tmp_out))
    return out


# ----------------------------------------------------------------------------- qonnx data


def _short_name(rel: str) -> str:
    if rel in _QONNX_DATA_NAMES:
        return _QONNX_DATA_NAMES[rel]
    stem = re.sub(r"(quant_model|_?testcase|\.onnx)", "", rel)
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")


def qonnx_data_models() -> dict[str, Path]:
    """Quantized models shipped in qonnx/data/onnx (any Quant/BipolarQuant/FloatQuant/
    MultiThreshold node): files written by other exporters, read but never written by us."""
    root = Path(str(importlib.resources.files("qonnx.data"))) / "onnx"
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.onnx")):
        model = onnx.load(str(path), load_external_data=False)
        if not any(node.op_type in _QUANT_OPS for node in model.graph.node):
            continue
        key = _short_name(path.relative_to(root).as_posix())
        while key in found:
            key += "_"
        found[key] = path
    return found
