"""Folding (PE outputs in parallel x SIMD inputs per cycle) per layer, from flows/<model>.yaml.

Format: `rtl: {folding: {fc0: {pe: 8, simd: 16}, ...}}`. A layer missing from the file gets the
default below; a folding that does not divide the layer is a CodesignError naming the layer.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from codesign.errors import CodesignError, first_line
from codesign.ir.graph import DenseLayer, IntGraph

# Default for a layer the YAML does not mention: the largest divisors not above these caps
# (PE x SIMD = 128 multipliers at most), a middle ground between area and cycles.
DEFAULT_PE_CAP = 8
DEFAULT_SIMD_CAP = 16


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending: the foldings (and beats) a dimension of n allows."""
    return [d for d in range(1, n + 1) if n % d == 0]


def _largest_divisor(n: int, cap: int) -> int:
    return max(d for d in divisors(n) if d <= cap)


def default_fold(layer: DenseLayer) -> tuple[int, int]:
    """(pe, simd) = largest divisors of (out, in) features up to (8, 16)."""
    return (
        _largest_divisor(layer.out_features, DEFAULT_PE_CAP),
        _largest_divisor(layer.in_features, DEFAULT_SIMD_CAP),
    )


def fold_for_cycles(layer: DenseLayer, cycles: int) -> tuple[int, int]:
    """The folding FINN's SetFolding would pick for an MVU to take at most `cycles` (>= 1) per
    vector: raise SIMD through the divisors of the input features first (wider input reads, no
    more accumulators), then PE through those of the outputs, stopping at the first that meets
    the target (fully parallel takes one cycle)."""
    n_in, n_out = layer.in_features, layer.out_features
    for simd in divisors(n_in):
        if n_out * (n_in // simd) <= cycles:
            return 1, simd
    return next(pe for pe in divisors(n_out) if n_out // pe <= max(1, cycles)), n_in


MAX_TARGET_CYCLES = 2**40  # beyond this a target says nothing (and prints as noise)


def target_cycles(fps: float, clock_mhz: float) -> int:
    """Cycles per inference that `fps` inferences per second leave at `clock_mhz`."""
    budget = clock_mhz * 1e6 / fps
    if not math.isfinite(budget):
        raise CodesignError(f"--target-fps {fps:g} at {clock_mhz:g} MHz: no finite cycle budget")
    cycles = budget // 1
    if cycles < 1:
        raise CodesignError(
            f"--target-fps {fps:g} at {clock_mhz:g} MHz leaves less than one cycle per inference"
        )
    if cycles > MAX_TARGET_CYCLES:
        raise CodesignError(
            f"--target-fps {fps:g} at {clock_mhz:g} MHz allows over {MAX_TARGET_CYCLES} cycles "
            "per inference: any folding meets it (leave --target-fps out)"
        )
    return int(cycles)


def check_folding(graph: IntGraph, folding: dict[str, tuple[int, int]]) -> None:
    """Raise CodesignError naming the first layer whose PE/SIMD is missing or does not divide."""
    names = {lay.name for lay in graph.layers}
    for key in folding:
        if key not in names:
            raise CodesignError(f"folding names layer '{key}', which is not in {graph.name}")
    for lay in graph.layers:
        if lay.name not in folding:
            raise CodesignError(f"layer '{lay.name}': no folding given")
        pe, simd = folding[lay.name]
        for what, v, n, feat in (
            ("PE", pe, lay.out_features, "output"),
            ("SIMD", simd, lay.in_features, "input"),
        ):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise CodesignError(f"layer '{lay.name}': {what} must be a positive integer")
            if n % v:
                raise CodesignError(
                    f"layer '{lay.name}': {what}={v} does not divide its {n} {feat} features"
                )


def parse_folding(text: str) -> dict[str, dict[str, int]]:
    """`fc0=1x2,fc1=4x8` (layer=PExSIMD, comma-separated) as rtl.folding entries."""
    out = {}
    for item in (t.strip() for t in text.split(",") if t.strip()):
        m = re.fullmatch(r"([\w.]+)=(\d+)x(\d+)", item)
        if m is None:
            raise CodesignError(f"--folding: {item!r} is not layer=PExSIMD (e.g. fc0=2x8)")
        if m.group(1) in out:
            raise CodesignError(f"--folding: layer '{m.group(1)}' is given twice")
        out[m.group(1)] = {"pe": int(m.group(2)), "simd": int(m.group(3))}
    if not out:
        raise CodesignError("--folding: empty (give layer=PExSIMD, e.g. fc0=2x8)")
    return out


def load_folding(
    yaml_path: str | Path | None,
    graph: IntGraph,
    overrides: dict | None = None,
    cycles: int | None = None,
) -> dict[str, tuple[int, int]]:
    """Folding for every layer of `graph`: `overrides` (parse_folding), then either the folding
    that meets `cycles` per inference (fold_for_cycles; the YAML's rtl.folding is then not read)
    or the YAML's rtl.folding, defaults for the rest."""
    spec: dict = {}
    if cycles is not None:
        spec = {
            lay.name: dict(zip(("pe", "simd"), fold_for_cycles(lay, cycles), strict=True))
            for lay in graph.layers
        }
    elif yaml_path is not None and Path(yaml_path).is_file():
        try:
            doc = yaml.safe_load(Path(yaml_path).read_text()) or {}
        except yaml.YAMLError as e:
            raise CodesignError(f"malformed YAML {yaml_path}: {first_line(e)}") from None
        spec = ((doc.get("rtl") or {}).get("folding")) or {}
        if not isinstance(spec, dict):
            raise CodesignError(f"{yaml_path}: rtl.folding must be a mapping layer -> {{pe, simd}}")
    spec = {**spec, **(overrides or {})}
    folding: dict[str, tuple[int, int]] = {}
    for key, val in spec.items():
        where = "--folding" if key in (overrides or {}) else f"{yaml_path}: rtl.folding"
        if not isinstance(val, dict) or not set(val) <= {"pe", "simd"}:
            raise CodesignError(f"{where}.{key} must be {{pe: N, simd: N}}")
        lay = graph.layer(key) if key in {la.name for la in graph.layers} else None
        if lay is None:
            raise CodesignError(f"{where} names layer '{key}', which is not in {graph.name}")
        dpe, dsimd = default_fold(lay)
        folding[key] = (val.get("pe", dpe), val.get("simd", dsimd))
    for lay in graph.layers:
        folding.setdefault(lay.name, default_fold(lay))
    check_folding(graph, folding)
    return folding
