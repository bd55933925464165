"""A sweep space from flows/<model>.sweep.yaml: parameters, axes, sampler, metrics, objectives.

A point is one configuration: `fixed` values plus one value per axis, all under dotted names
(`quant.weight_bits`, `rtl.folding`, `substrate`, ...). Every name and value is validated here,
before anything runs, so a typo is one clear error naming the file, the axis and the value.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from codesign.errors import CodesignError, first_line
from codesign.quant.act_stages import ACT_QUANTS
from codesign.quant.variants import VARIANTS

SAMPLERS = ("grid", "random", "optuna")
SUBSTRATES = ("asic45", "fpga", "reram", "sfq")
WEIGHT_QUANTS = ("post", "post2", "uniform")  # codesign.quant.linear.make_weight_quant
TOP_KEYS = {
    "model",
    "name",
    "sampler",
    "samples",
    "seed",
    "fixed",
    "axes",
    "metrics",
    "objectives",
    "recommended",
}


@dataclass(frozen=True)
class Param:
    """What values a parameter takes: kind int/float/choice/folding, bounds or choices."""

    kind: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    help: str = ""


STATIC_PARAMS: dict[str, Param] = {
    "quant.weight_quant": Param("choice", choices=WEIGHT_QUANTS, help="weight quantizer"),
    "quant.weight_bits": Param("int", 2, 8, help="weight bits"),
    "quant.act_bits": Param("int", 2, 8, help="activation bits"),
    "quant.act_quant": Param("choice", choices=ACT_QUANTS, help="activation stage"),
    "quant.variant": Param("choice", choices=tuple(VARIANTS), help="weight + activation variant"),
    "quant.bits": Param("int", 2, 8, help="weight and hidden-activation bits (with variant)"),
    "rtl.folding": Param("folding", help="{layer: [pe, simd]} for every layer named"),
    "rtl.simulator": Param("choice", choices=("verilator", "icarus"), help="RTL simulator"),
    "rtl.samples": Param("int", 1, None, help="test samples streamed through the RTL"),
    "substrate": Param("choice", choices=SUBSTRATES, help="which energy figure is energy_pJ"),
    "reram.adc_bits": Param("int", 2, 32, help="ReRAM ADC bits (codesign.sim.reram)"),
    "sfq.samples": Param("int", 0, None, help="test samples for the SFQ simulator (0: all)"),
    "sfq.act_bits": Param("int", 0, 8, help="SFQ activation reduction (0: keep the model)"),
}


def param_for(name: str, model: str, where: str = "") -> Param:
    """The Param of a dotted name; CodesignError naming it (and the known ones) if unknown."""
    if name in STATIC_PARAMS:
        return STATIC_PARAMS[name]
    parts = name.split(".")
    if len(parts) == 4 and parts[:2] == ["rtl", "folding"] and parts[3] in ("pe", "simd"):
        return Param("int", 1, None, help=f"{parts[3].upper()} of layer {parts[2]}")
    if len(parts) == 2 and parts[0] == "train":
        defaults = _model_defaults(model).get("train", {})
        if parts[1] in defaults:
            d = defaults[parts[1]]
            return Param("int", 0, None) if isinstance(d, int) else Param("float")
    known = sorted(STATIC_PARAMS) + [
        "rtl.folding.<layer>.pe",
        "rtl.folding.<layer>.simd",
        *(f"train.{k}" for k in _model_defaults(model).get("train", {})),
    ]
    pre = f"{where}: " if where else ""
    raise CodesignError(f"{pre}unknown parameter '{name}' (known: {', '.join(known)})")


def _model_defaults(model: str) -> dict:
    from codesign.models import zoo

    return getattr(zoo.module(model), "DEFAULTS", {})


def _check_value(where: str, p: Param, v: Any) -> Any:
    """Validated (and normalised) value; CodesignError naming `where` and the value."""
    if p.kind == "choice":
        if v not in p.choices:
            raise CodesignError(f"{where}: value {v!r} not one of {', '.join(map(str, p.choices))}")
        return v
    if p.kind == "folding":
        return _check_folding(where, v)
    if p.kind == "int" and (not isinstance(v, int) or isinstance(v, bool)):
        raise CodesignError(f"{where}: value {v!r} is not an integer")
    if p.kind == "float" and (not isinstance(v, int | float) or isinstance(v, bool)):
        raise CodesignError(f"{where}: value {v!r} is not a number")
    if p.lo is not None and v < p.lo or p.hi is not None and v > p.hi:
        hi = "" if p.hi is None else p.hi
        raise CodesignError(f"{where}: value {v!r} out of range {p.lo}..{hi}")
    return v


def _check_folding(where: str, v: Any) -> dict[str, list[int]]:
    if not isinstance(v, dict) or not v:
        raise CodesignError(f"{where}: a folding is a mapping layer -> [pe, simd], got {v!r}")
    out = {}
    for lay, f in sorted(v.items()):
        if isinstance(f, dict) and set(f) == {"pe", "simd"}:
            f = [f["pe"], f["simd"]]
        ok = isinstance(f, list | tuple) and len(f) == 2
        if not ok or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in f):
            raise CodesignError(f"{where}: layer '{lay}' needs [pe, simd] positive ints, got {f!r}")
        out[str(lay)] = [int(f[0]), int(f[1])]
    return out


def _axis_values(where: str, p: Param, spec: Any) -> list:
    """An axis spec (a list, or {range: [lo, hi], step: n} for ints) as a list of valid values."""
    if isinstance(spec, dict) and "range" in spec:
        if p.kind != "int":
            raise CodesignError(f"{where}: 'range' only works for integer parameters")
        extra = set(spec) - {"range", "step"}
        if extra:
            raise CodesignError(f"{where}: unknown key(s) {sorted(extra)} (range, step)")
        rng, step = spec["range"], spec.get("step", 1)
        ok = isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) for x in rng)
        if not ok or not isinstance(step, int) or step < 1:
            raise CodesignError(f"{where}: range must be [lo, hi] integers and step >= 1")
        values = list(range(rng[0], rng[1] + 1, step))
        if not values:
            raise CodesignError(f"{where}: empty range {rng[0]}..{rng[1]}")
    elif isinstance(spec, list):
        values = spec
        if not values:
            raise CodesignError(f"{where}: empty list of values")
    else:
        raise CodesignError(f"{where}: give a list of values or {{range: [lo, hi]}}, got {spec!r}")
    values = [_check_value(where, p, v) for v in values]
    keys = [json.dumps(v, sort_keys=True) for v in values]
    if len(set(keys)) != len(keys):
        raise CodesignError(f"{where}: repeated values in {values!r}")
    return values


@dataclass
class Space:
    """A validated sweep space (see flows/digits_mlp.sweep.yaml for the format)."""

    model: str
    name: str
    sampler: str = "grid"
    samples: int | None = None
    seed: int = 0
    fixed: dict[str, Any] = field(default_factory=dict)
    axes: dict[str, list] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    objectives: dict[str, str] = field(default_factory=dict)
    recommended: dict[str, Any] = field(default_factory=dict)
    source: str = "<dict>"

    def size(self) -> int:
        """Number of grid points (product of the axis lengths)."""
        n = 1
        for vals in self.axes.values():
            n *= len(vals)
        return n

    def grid(self) -> Iterator[dict[str, Any]]:
        names = list(self.axes)
        for combo in itertools.product(*(self.axes[a] for a in names)):
            yield {**self.fixed, **dict(zip(names, combo, strict=True))}

    def at(self, index: int) -> dict[str, Any]:
        """Grid point number `index` (mixed radix, last axis fastest, as grid() orders them)."""
        out = {}
        for a in reversed(list(self.axes)):
            vals = self.axes[a]
            index, r = divmod(index, len(vals))
            out[a] = vals[r]
        return {**self.fixed, **{a: out[a] for a in self.axes}}

    def points(self) -> list[dict[str, Any]]:
        """The points a grid or random sweep runs, in a fixed order (random: seeded, distinct)."""
        if self.sampler == "grid":
            return list(self.grid())
        if self.sampler == "random":
            n = min(self.samples or self.size(), self.size())
            idx = random.Random(self.seed).sample(range(self.size()), n)
            return [self.at(i) for i in idx]
        raise CodesignError(f"{self.source}: sampler '{self.sampler}' has no fixed point list")

    def is_recommended(self, params: dict[str, Any]) -> bool:
        """True when the point has the recommended value on every axis that has one."""
        keys = [a for a in self.axes if a in self.recommended]
        return bool(keys) and all(_same(params.get(a), self.recommended[a]) for a in keys)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "name": self.name,
            "sampler": self.sampler,
            "samples": self.samples,
            "seed": self.seed,
            "fixed": self.fixed,
            "axes": self.axes,
            "metrics": self.metrics,
            "objectives": [[k, d] for k, d in self.objectives.items()],  # ordered
            "recommended": self.recommended,
            "source": self.source,
        }


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def point_id(model: str, params: dict[str, Any]) -> str:
    """Stable id of a configuration: the same parameters always map to the same build folder."""
    blob = json.dumps({"model": model, "params": params}, sort_keys=True)
    return "p" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def recommended_from_flow(model: str, axes: dict[str, list]) -> dict[str, Any]:
    """The flows/<model>.yaml value (the README's configuration) of each axis, where it has one."""
    from codesign.paths import flow_config

    flow = flow_config(model)
    fold = (flow.get("rtl") or {}).get("folding") or {}
    out: dict[str, Any] = {}
    for a in axes:
        parts = a.split(".")
        if a == "substrate":
            out[a] = "asic45"
        elif a == "rtl.folding" and fold:
            out[a] = {k: [v["pe"], v["simd"]] for k, v in sorted(fold.items())}
        elif len(parts) == 4 and parts[:2] == ["rtl", "folding"]:
            if parts[3] in (fold.get(parts[2]) or {}):
                out[a] = fold[parts[2]][parts[3]]
        elif len(parts) == 2 and parts[1] in (flow.get(parts[0]) or {}):
            out[a] = flow[parts[0]][parts[1]]
    return out


def parse_space(doc: dict, source: str = "<dict>", model: str | None = None) -> Space:
    """Validate a sweep document; CodesignError naming `source` and the entry at fault."""
    from codesign.dse.stages import METRICS
    from codesign.models import zoo

    if not isinstance(doc, dict):
        raise CodesignError(f"{source}: a sweep space is a YAML mapping")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise CodesignError(f"{source}: unknown key(s) {sorted(unknown)} ({', '.join(TOP_KEYS)})")
    m = doc.get("model", model)
    if m is None:
        raise CodesignError(f"{source}: no 'model' given")
    if model is not None and m != model:
        raise CodesignError(f"{source}: space is for model '{m}', not '{model}'")
    zoo.get(m)
    sampler = doc.get("sampler", "grid")
    if sampler not in SAMPLERS:
        raise CodesignError(f"{source}: sampler '{sampler}' not one of {', '.join(SAMPLERS)}")
    samples = doc.get("samples")
    if samples is not None and (not isinstance(samples, int) or samples < 1):
        raise CodesignError(f"{source}: samples must be a positive integer, got {samples!r}")
    if sampler == "optuna" and samples is None:
        raise CodesignError(f"{source}: sampler 'optuna' needs 'samples' (number of trials)")
    seed = doc.get("seed", 0)
    if not isinstance(seed, int):
        raise CodesignError(f"{source}: seed must be an integer")

    fixed = {}
    for name, v in (doc.get("fixed") or {}).items():
        p = param_for(name, m, f"{source}: fixed")
        fixed[name] = _check_value(f"{source}: fixed '{name}'", p, v)
    axes_doc = doc.get("axes")
    if not isinstance(axes_doc, dict) or not axes_doc:
        raise CodesignError(f"{source}: 'axes' must map at least one parameter to its values")
    axes = {}
    for name, spec in axes_doc.items():
        where = f"{source}: axis '{name}'"
        if name in fixed:
            raise CodesignError(f"{where} is also under 'fixed'")
        axes[name] = _axis_values(where, param_for(name, m, f"{source}: axes"), spec)
    if "rtl.folding" in {*axes, *fixed} and any(
        a.startswith("rtl.folding.") for a in {*axes, *fixed}
    ):
        raise CodesignError(f"{source}: use either rtl.folding or rtl.folding.<layer>.*, not both")

    metrics = doc.get("metrics") or ["accuracy", "golden_mismatches", "energy_pJ"]
    if not isinstance(metrics, list):
        raise CodesignError(f"{source}: metrics must be a list")
    for k in metrics:
        if k not in METRICS:
            raise CodesignError(f"{source}: unknown metric '{k}' (known: {', '.join(METRICS)})")
    objectives = doc.get("objectives") or {}
    if not isinstance(objectives, dict):
        raise CodesignError(f"{source}: objectives must map metric -> min|max")
    for k, d in objectives.items():
        if k not in metrics:
            raise CodesignError(f"{source}: objective '{k}' is not in metrics")
        if d not in ("min", "max"):
            raise CodesignError(f"{source}: objective '{k}' must be min or max, got {d!r}")
    if sampler == "optuna" and not objectives:
        raise CodesignError(f"{source}: sampler 'optuna' needs objectives (metric: min|max)")

    rec = recommended_from_flow(m, axes)
    for name, v in (doc.get("recommended") or {}).items():
        if name not in axes:
            raise CodesignError(f"{source}: recommended '{name}' is not an axis")
        rec[name] = _check_value(f"{source}: recommended '{name}'", param_for(name, m), v)
    name = doc.get("name") or Path(source).name.split(".")[0]
    return Space(
        model=m,
        name=str(name),
        sampler=sampler,
        samples=samples,
        seed=seed,
        fixed=fixed,
        axes=axes,
        metrics=list(metrics),
        objectives=dict(objectives),
        recommended=rec,
        source=source,
    )


def load_space(path: str | Path, model: str | None = None) -> Space:
    """parse_space of a YAML file; the sweep is named after the file (`name:` overrides)."""
    p = Path(path)
    if not p.is_file():
        raise CodesignError(f"sweep space {p} not found")
    try:
        doc = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise CodesignError(f"malformed YAML {p}: {first_line(e)}") from None
    if isinstance(doc, dict) and "name" not in doc:
        doc = {**doc, "name": p.name.removesuffix(".yaml").removesuffix(".yml")}
    return parse_space(doc, str(p), model)
