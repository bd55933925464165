"""codenet_tiny's stages for the design-space sweep (codesign.dse, `codesign quantizers`).

The same stage names and metrics as the dense pipeline (codesign/dse/stages.py), run through the
CoDeNet flow (codesign/models/codenet_tiny.py) and its own accelerator:

  train   codenet_tiny.train with the point's quant.* / train.* overrides (a variant's `bits`
          are weight bits here: the activations stay A8)
  export  -> onnx/model.onnx
  golden  golden vs PyTorch integer mode on the test split; accuracy = AP50 of the golden model
  rtl     codenet_accel generated + linted, Verilator on `rtl.samples` images vs golden
  synth   Yosys synth_xilinx (xc7) of that accelerator
  energy  `codesign energy codenet_tiny` (45 nm; reads reports/codenet.json, so after rtl) and
          the stored weight bits of the integer graph

A mismatching golden model or RTL is a measured metric (as for the dense models), not a failure.
"""

from __future__ import annotations

from codesign.dse.stages import STAGE_BY_NAME, PointContext, Stage
from codesign.errors import CodesignError


def _overrides(ctx: PointContext) -> dict:
    ov = ctx.overrides()
    if "quant.act_bits" not in ctx.params:  # set by a variant's `bits`: weights only here
        ov.get("quant", {}).pop("act_bits", None)
    return ov


def _train(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    ct.train(ct.config(_overrides(ctx)))
    return {}


def _export(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    ct.flow_export()
    return {}


def _report_even_if(flow_step, ctx: PointContext, name: str) -> dict:
    """Run a flow step that writes `name` and then raises on mismatches; return the report."""
    try:
        flow_step()
    except CodesignError:
        if not (ctx.reports / name).is_file():
            raise
    return ctx.report(name)


def _golden(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    r = _report_even_if(ct.flow_golden, ctx, "golden.json")
    ap = r["ap50"]
    return {
        "accuracy": ap["quant_rounded_golden"],
        "accuracy_float": ap["float"],
        "accuracy_quant": ap["quant_rounded_pytorch"],
        "golden_mismatches": r["mismatches"],
    }


def _rtl_config(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    cfg = ct.config()  # the flow file's accelerator (pa, pe, clock)
    cfg["rtl"]["yosys"] = False  # the synth stage runs Yosys
    if "rtl.samples" in ctx.params:
        cfg["rtl"]["sim_images"] = int(ctx.params["rtl.samples"])
    return cfg


def _rtl(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    cfg = _rtl_config(ctx)
    ct.flow_rtl(cfg=cfg)
    r = _report_even_if(lambda: ct.flow_sim(cfg=cfg), ctx, "codenet.json")
    perf = r["performance"]
    return {
        "rtl_mismatches": r["rtl_vs_golden"]["mismatches"],
        "cycles": perf["sim_cycles_per_frame"],
        "ideal_cycles": perf["ideal_cycles_per_frame"],
        "mac_lanes": perf["pa"] * perf["pe"],
    }


def _synth(ctx: PointContext) -> dict:
    from codesign.models import codenet_tiny as ct

    rep = ct.flow_synth()
    return {"lut": rep["LUT"], "ff": rep["FF"], "dsp": rep["DSP"], "bram": rep["BRAM"]}


def _energy(ctx: PointContext) -> dict:
    from codesign import paths
    from codesign.codenet.export import load_graph
    from codesign.codenet.graph import codenet_net
    from codesign.energy.cli import main

    if main([ctx.model]):
        raise CodesignError(f"codesign energy {ctx.model} failed")
    r = ctx.report("energy.json")
    g = load_graph(paths.onnx_path(ctx.model), ctx.model)
    bits = codenet_net(g).weight_memory_bits()
    return {"energy_asic45_pJ": r["total_pJ"], "weight_memory_bits": bits}


def _like(name: str, requires: tuple[str, ...], modules: tuple[str, ...], run) -> Stage:
    """The dense pipeline's stage `name` (same metrics), with this model's code."""
    return Stage(name, STAGE_BY_NAME[name].provides, requires, modules, run)


def stages() -> list[Stage]:
    return [
        _like("train", (), ("codesign.codenet.train",), _train),
        _like("export", ("train",), ("codesign.codenet.export",), _export),
        _like("golden", ("export",), ("codesign.codenet.golden",), _golden),
        _like("rtl", ("golden",), ("codesign.codenet.rtl", "codesign.verify.runner"), _rtl),
        _like("synth", ("rtl",), ("codesign.rtl.synth",), _synth),
        _like("energy", ("rtl",), ("codesign.energy.cli",), _energy),
    ]
