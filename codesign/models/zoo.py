"""The model zoo: name -> builder, data set, training recipe, flow defaults."""

from __future__ import annotations

from dataclasses import dataclass

from codesign.errors import CodesignError


@dataclass(frozen=True)
class ZooEntry:
    name: str
    description: str
    module: str  # module offering build(cfg), float_baseline(cfg), data(), train(cfg, dir)


ZOO: dict[str, ZooEntry] = {
    "digits_mlp": ZooEntry(
        "digits_mlp",
        "sklearn digits, MLP 64-64-32-10, W4 POST (base sqrt2) / A8, QAT",
        "codesign.models.digits_mlp",
    ),
    "delay_snn": ZooEntry(
        "delay_snn",
        "spiking MLP, learnable delays (DCLS) 6-32-32-8, timing task, W8 uniform, integer LIF",
        "codesign.models.delay_snn",
    ),
    "hd_snn": ZooEntry(
        "hd_snn",
        "HD-SNN heterogeneous-delay 3-D conv, moving-dots direction, W8 uniform, integer LIF",
        "codesign.models.hd_snn",
    ),
    "codenet_tiny": ZooEntry(
        "codenet_tiny",
        "generated shapes detection, CoDeNet square-deformable dw3x3 + 1x1, CenterNet head, W4/A8",
        "codesign.models.codenet_tiny",
    ),
}


def get(name: str) -> ZooEntry:
    if name not in ZOO:
        raise CodesignError(f"unknown model '{name}' (known: {', '.join(sorted(ZOO))})")
    return ZOO[name]


def module(name: str):
    import importlib

    return importlib.import_module(get(name).module)


def names() -> list[str]:
    return sorted(ZOO)
