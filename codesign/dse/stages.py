"""The point runner's named stages: train, export, golden, energy, rtl, synth, substrates.

Each stage reads the previous stages' artefacts under the point's build folder (the thread's
workspace while the point runs) and returns metrics read from the JSON reports the flow
writes. A stage whose backend module cannot be imported is *unavailable*: its metrics are
recorded as unavailable with the reason, never as a number. New backends plug in by adding one
Stage to STAGES and their metrics to METRICS. A zoo model with its own hardware path (codenet_tiny)
has its own pipeline module in OWN_PIPELINES (its `stages()`): the same stage names and
metrics, its own code, order and requirements (stages_for).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesign.errors import CodesignError


@dataclass
class PointContext:
    """What a stage sees: the model, the point's parameters and its build root."""

    model: str
    params: dict[str, Any]
    root: Path
    log: io.StringIO = field(default_factory=io.StringIO)

    @property
    def model_dir(self) -> Path:
        return self.root / self.model

    @property
    def reports(self) -> Path:
        return self.model_dir / "reports"

    def overrides(self) -> dict[str, dict]:
        """quant.* and train.* parameters as flow.train overrides (section -> key -> value)."""
        from codesign.quant.variants import quant_overrides

        out: dict[str, dict] = {}
        for k, v in self.params.items():
            sec, _, key = k.partition(".")
            if k in ("quant.variant", "quant.bits"):
                continue  # expanded below
            if sec in ("quant", "train") and key:
                out.setdefault(sec, {})[key] = v
        if "quant.variant" in self.params:
            bits = self.params.get("quant.bits")
            out.setdefault("quant", {}).update(quant_overrides(self.params["quant.variant"], bits))
        elif "quant.bits" in self.params:
            b = self.params["quant.bits"]
            out.setdefault("quant", {}).update(weight_bits=b, act_bits=b)
        return out

    def report(self, name: str) -> dict:
        p = self.reports / name
        if not p.is_file():
            raise CodesignError(f"stage report {p} was not written")
        return json.loads(p.read_text())


@dataclass(frozen=True)
class Stage:
    """One named step; `modules` are imported first to detect whether the backend exists."""

    name: str
    provides: tuple[str, ...]
    requires: tuple[str, ...]
    modules: tuple[str, ...]
    run: Callable[[PointContext], dict[str, Any]]


def _train(ctx: PointContext) -> dict:
    from codesign import flow

    r = flow.train(ctx.model, ctx.overrides())
    return {"accuracy_float": r["accuracy_float"], "accuracy_quant": r["accuracy_quant"]}


def _export(ctx: PointContext) -> dict:
    from codesign import flow

    flow.export(ctx.model)
    return {}


def _golden(ctx: PointContext) -> dict:
    from codesign import flow

    r = flow.golden(ctx.model)
    return {"accuracy": r["accuracy_golden"], "golden_mismatches": r["mismatches"]}


def _energy(ctx: PointContext) -> dict:
    from codesign import flow

    r = flow.energy(ctx.model)
    return {"energy_asic45_pJ": r["total_pJ"], "weight_memory_bits": r["weight_memory_bits"]}


def point_folding(ctx: PointContext, graph) -> dict[str, tuple[int, int]]:
    """flows/<model>.yaml folding (defaults for the rest), then the point's rtl.folding axes."""
    from codesign.paths import FLOWS_DIR
    from codesign.rtl.folding import check_folding, load_folding

    fold = load_folding(FLOWS_DIR / f"{ctx.model}.yaml", graph)
    for lay, (pe, simd) in (ctx.params.get("rtl.folding") or {}).items():
        fold[lay] = (pe, simd)
    for k, v in ctx.params.items():
        parts = k.split(".")
        if len(parts) == 4 and parts[:2] == ["rtl", "folding"]:
            if parts[2] not in fold:
                raise CodesignError(f"{k}: layer '{parts[2]}' is not in {ctx.model}")
            pe, simd = fold[parts[2]]
            fold[parts[2]] = (v, simd) if parts[3] == "pe" else (pe, v)
    check_folding(graph, fold)
    return fold


def _rtl(ctx: PointContext) -> dict:
    from codesign import golden_io
    from codesign.atomic import write_json
    from codesign.ir.chain import load_int_graph
    from codesign.paths import onnx_path
    from codesign.rtl.generate import generate
    from codesign.verify.simulate import simulate

    graph = load_int_graph(onnx_path(ctx.model), ctx.model)
    fold = point_folding(ctx, graph)
    rtl_dir = ctx.model_dir / "rtl"
    man = generate(graph, fold, rtl_dir)
    rep = simulate(
        rtl_dir,
        golden_io.path_for(ctx.model),
        samples=ctx.params.get("rtl.samples", 32),
        simulator=ctx.params.get("rtl.simulator", "verilator"),
        build_dir=ctx.model_dir,
    )
    write_json(ctx.reports / "rtl_sim.json", rep)
    return {
        "rtl_mismatches": rep["mismatches_all_layers"],
        "cycles": rep.get("cycles_per_inference"),
        "interval_cycles": rep.get("interval_cycles_per_inference"),
        "ideal_cycles": man["ideal_cycles_per_inference"],
        "mac_lanes": sum(lay["pe"] * lay["simd"] for lay in man["layers"]),
    }


def _synth(ctx: PointContext) -> dict:
    """Yosys synth_xilinx (xc7) of the point's generated RTL: codesign.rtl.synth."""
    from codesign.atomic import write_json
    from codesign.rtl.synth import synthesize

    rep = synthesize(ctx.model_dir / "rtl", "xc7", ctx.model_dir / "synth" / "xc7", pnr=False)
    write_json(ctx.reports / "synth_xc7.json", rep)
    return {"lut": rep["LUT"], "ff": rep["FF"], "dsp": rep["DSP"], "bram": rep["BRAM"]}


def _reram(ctx: PointContext) -> dict:
    from codesign.sim.reram.cli import main

    argv = [ctx.model, "--build", str(ctx.root), "--sweep", "none", "--no-plots", "--repeats", "1"]
    if "reram.adc_bits" in ctx.params:
        argv += ["--set", f"adc_bits={ctx.params['reram.adc_bits']}"]
    rc = main(argv)
    if rc == 2:
        raise CodesignError("codesign.sim.reram rejected the point (see the stage log)")
    r = ctx.report("reram.json")
    d = r["default"]
    return {
        "reram_accuracy": d["accuracy"],
        "reram_exact": bool(r["ideal"]["exact"]),
        "energy_reram_pJ": 1e12 * d["energy"]["per_inference"]["total_j"],
    }


def _sfq(ctx: PointContext) -> dict:
    from codesign.sim.sfq.cli import main

    argv = [ctx.model, "--build", str(ctx.root)]
    argv += ["--samples", str(ctx.params.get("sfq.samples", 50))]
    argv += ["--act-bits", str(ctx.params.get("sfq.act_bits", 0))]
    rc = main(argv)
    if rc == 2:
        raise CodesignError("codesign.sim.sfq rejected the point (see the stage log)")
    r = ctx.report("sfq.json")
    return {
        "sfq_accuracy": r.get("accuracy_sfq"),
        "sfq_mismatches": r["mismatches"],
        "energy_sfq_pJ": 1e12 * r["per_inference"]["total_J"],
        "energy_sfq_cooled_pJ": 1e12 * r["per_inference"]["total_with_cooling_J"],
    }


STAGES: list[Stage] = [
    Stage("train", ("accuracy_float", "accuracy_quant"), (), ("codesign.flow",), _train),
    Stage("export", (), ("train",), ("codesign.ir.export",), _export),
    Stage(
        "golden", ("accuracy", "golden_mismatches"), ("export",), ("codesign.ir.chain",), _golden
    ),
    Stage(
        "energy",
        ("energy_asic45_pJ", "weight_memory_bits"),
        ("export",),
        ("codesign.energy.digital",),
        _energy,
    ),
    Stage(
        "rtl",
        ("rtl_mismatches", "cycles", "interval_cycles", "ideal_cycles", "mac_lanes"),
        ("golden",),
        ("codesign.rtl.generate", "codesign.verify.simulate"),
        _rtl,
    ),
    Stage("synth", ("lut", "ff", "dsp", "bram"), ("rtl",), ("codesign.rtl.synth",), _synth),
    Stage(
        "reram",
        ("reram_accuracy", "reram_exact", "energy_reram_pJ"),
        ("golden",),
        ("codesign.sim.reram.cli",),
        _reram,
    ),
    Stage(
        "sfq",
        ("sfq_accuracy", "sfq_mismatches", "energy_sfq_pJ", "energy_sfq_cooled_pJ"),
        ("golden",),
        ("codesign.sim.sfq.cli",),
        _sfq,
    ),
]
STAGE_BY_NAME = {s.name: s for s in STAGES}

# Substrate-dependent metrics: name -> substrate -> the measured metric it stands for (None:
# codesign has no model for that substrate). SFQ energy counts its cryocooler (the sfq report's
# total_with_cooling_J), so energy_pJ compares substrates at the wall plug; energy_sfq_pJ keeps
# the 4 K figure alone. substrate_accuracy: the digital substrates compute the golden model
# exactly; ReRAM with its default non-idealities; SFQ on its first sfq.samples test samples.
DERIVED: dict[str, dict[str, str | None]] = {
    "energy_pJ": {
        "asic45": "energy_asic45_pJ",
        "reram": "energy_reram_pJ",
        "sfq": "energy_sfq_cooled_pJ",
        "fpga": None,
    },
    "substrate_accuracy": {
        "asic45": "accuracy",
        "fpga": "accuracy",
        "reram": "reram_accuracy",
        "sfq": "sfq_accuracy",
    },
}
METRICS: dict[str, str] = {m: s.name for s in STAGES for m in s.provides}
METRICS.update(dict.fromkeys(DERIVED, "<substrate>"))


def metric_source(metric: str, substrate: str) -> str | None:
    """The measured metric behind `metric` on `substrate` (itself unless it is derived)."""
    return DERIVED[metric][substrate] if metric in DERIVED else metric


def metric_stage(metric: str, substrate: str) -> str | None:
    """The stage that measures `metric` for a point on `substrate` (None: nothing can)."""
    src = metric_source(metric, substrate)
    return None if src is None else METRICS[src]


# models whose hardware path is their own: the module whose stages() is their pipeline (named
# here, not by the model's module, which the pipeline's own code imports)
OWN_PIPELINES = {"codenet_tiny": "codesign.codenet.sweep"}


def stages_for(model: str | None) -> list[Stage]:
    """The pipeline of `model`: its own (OWN_PIPELINES) if it has one, else STAGES."""
    if model in OWN_PIPELINES:
        return importlib.import_module(OWN_PIPELINES[model]).stages()
    return STAGES


def plan(metrics: list[str], substrate: str, model: str | None = None) -> list[Stage]:
    """The stages needed for `metrics`, with their requirements, in pipeline order (stages the
    model's pipeline lacks are left out; the point records their metrics as unavailable)."""
    pipeline = stages_for(model)
    by_name = {s.name: s for s in pipeline}
    need: set[str] = set()
    todo = [s for m in metrics if (s := metric_stage(m, substrate)) is not None]
    while todo:
        s = todo.pop()
        if s not in need and s in by_name:
            need.add(s)
            todo.extend(by_name[s].requires)
    return [s for s in pipeline if s.name in need]


def missing_module(stage: Stage) -> str | None:
    """The import error of the stage's backend, or None when it is importable."""
    for mod in stage.modules:
        try:
            importlib.import_module(mod)
        except ImportError as e:
            return f"{stage.name}: {mod} not importable ({e})"
    return None


def run_stage(stage: Stage, ctx: PointContext) -> dict[str, Any]:
    """Run a stage with its prints captured in ctx.log (a worker's stdout is nobody's)."""
    with contextlib.redirect_stdout(ctx.log), contextlib.redirect_stderr(ctx.log):
        print(f"--- stage {stage.name}")
        return stage.run(ctx)
