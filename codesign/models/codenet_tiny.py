"""codenet_tiny: CoDeNet-style square-deformable detector on the generated shapes set.

Flow (`codesign <verb> codenet_tiny`), every step under build/codenet_tiny/:
  train  -> checkpoint.pt (float + QAT integer model), reports/train.json
  export -> onnx/model.onnx (the one graph file: Conv / DeformConv / Requant nodes)
  golden -> golden/layers.npz, reports/golden.json (golden == PyTorch integer mode, AP50s)
  rtl    -> rtl/ (codenet_accel for this model + host program), reports/rtl.json (lint, Yosys)
  sim    -> Verilator run vs golden, cycles vs the analytic model, paper-scale accounting:
            reports/codenet.json and reports/detections.png
The model itself is codesign/codenet/model.py. `quant.weight_quant` (uniform | post2 | post) and
`quant.weight_bits` choose the dw/pw/head weights; the stem and scale layers stay uniform
`first_bits`. `codesign quantizers codenet_tiny` compares them (sweep stages: codenet/sweep.py).
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from codesign import checkpoint, golden_io, paths
from codesign.atomic import together, write_json
from codesign.errors import CodesignError
from codesign.rtl import manifest as rtl_manifest

NAME = "codenet_tiny"
DEFAULTS = {
    "model": {"channels": 16, "blocks": 3},
    "data": {"train": 800, "test": 200, "size": 64, "seed_train": 1, "seed_test": 2},
    # act_quant / act_bits: declared so a request for another is refused by check_quant's reason
    "quant": {
        "first_bits": 8,
        "weight_bits": 4,
        "weight_quant": "uniform",
        "act_quant": "fixed",
        "act_bits": 8,
    },
    "train": {
        "seed": 0,
        "float_epochs": 12,
        "rounded_epochs": 8,
        "qat_epochs": 6,
        "batch_size": 32,
        "lr_float": 3e-3,
        "lr_rounded": 2e-3,
        "lr_qat": 5e-4,
    },
    "rtl": {"pa": 4, "pe": 4, "sim_images": 2, "clock_mhz": 200, "yosys": True},
}


# Why the activation quantizer variants (ASQ, AdaLog) do not apply to this model.
ACT_STAGES_NA = (
    "codenet's activations are A8 asymmetric through its own accelerator (codenet_accel), which "
    "has no activation-stage units"
)
# `codesign quantizers codenet_tiny`: how the table labels this model (codesign/quant/table.py)
QUANTIZER_TABLE = {
    "metric": "AP50 %",
    "metric_plot": "AP50 on the test split (%)",
    "bits": "weight bits of dw/pw/head (stem and scale layers: 8-bit uniform; activations A8)",
    "plot_bits": "weight bits (dw/pw/head; activations A8)",
    "unsupported": {"asq_post": ACT_STAGES_NA, "adalog": ACT_STAGES_NA},
    "labels": {
        "uniform": "uniform per-channel W, A8",
        "post2": "POST b=2 W, A8",
        "post": "POST b=sqrt2 W, A8",
    },
}


def check_quant(q: dict) -> None:
    """The `quant` choices this accelerator takes (keys and types: codesign/config.py)."""
    from codesign.codenet.model import WEIGHT_QUANTS, post_frac_bits

    wq = q["weight_quant"]
    if wq not in WEIGHT_QUANTS:
        raise CodesignError(
            f"{NAME}: quant.weight_quant {wq!r} not one of {', '.join(WEIGHT_QUANTS)}"
        )
    for key in ("weight_bits", "first_bits"):
        v = q[key]
        if not isinstance(v, int) or isinstance(v, bool) or not 2 <= v <= 8:
            raise CodesignError(f"{NAME}: quant.{key} {v!r} must be an integer in 2..8")
    if wq != "uniform":
        try:
            post_frac_bits(q["weight_bits"], wq)
        except CodesignError as e:
            raise CodesignError(f"{NAME}: {e}") from None
    if q.get("act_quant", "fixed") != "fixed":
        raise CodesignError(f"{NAME}: quant.act_quant {q['act_quant']!r}: {ACT_STAGES_NA}")
    if q.get("act_bits", 8) != 8:
        raise CodesignError(
            f"{NAME}: quant.act_bits {q['act_bits']!r}: activations are A8 (codenet_accel's 8-bit "
            "feature maps)"
        )


def config(overrides: dict | None = None) -> dict:
    """Defaults < flows/codenet_tiny.yaml < overrides, checked (codesign/config.py), then the
    quantizer choices this accelerator takes."""
    from codesign.config import load

    out = load(NAME, DEFAULTS, overrides)
    check_quant(out["quant"])
    return out


def _quant_model(fm, cfg: dict):
    from codesign.codenet.model import QuantCodeNet

    q = cfg["quant"]
    return QuantCodeNet.from_float(
        fm, int(q["first_bits"]), int(q["weight_bits"]), q.get("weight_quant", "uniform")
    )


def data(cfg: dict):
    from codesign.data.detection import make_detection_set

    d = cfg["data"]
    return (
        make_detection_set(int(d["train"]), int(d["size"]), seed=int(d["seed_train"])),
        make_detection_set(int(d["test"]), int(d["size"]), seed=int(d["seed_test"])),
    )


def _ck():
    return paths.model_dir(NAME) / "checkpoint.pt"


def train(cfg: dict) -> dict:
    """Float (bounded bilinear) -> rounded-offset fine-tune -> QAT; saves checkpoint.pt."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: one thread was the fastest here (~2x)
    try:
        return _train(cfg)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: dict) -> dict:
    from codesign.codenet.model import FloatCodeNet
    from codesign.codenet.train import fit
    from codesign.data.detection import CLASSES

    t, m = cfg["train"], cfg["model"]
    tr, _ = data(cfg)
    seed = int(t["seed"])
    torch.manual_seed(seed)
    t0 = time.time()
    fm = FloatCodeNet(int(m["channels"]), len(CLASSES), int(m["blocks"]), "bounded")
    bs = int(t["batch_size"])
    fit(fm, tr, int(t["float_epochs"]), float(t["lr_float"]), bs, seed, "float")
    float_state = {k: v.clone() for k, v in fm.state_dict().items()}
    fm.set_mode("rounded")
    if int(t["rounded_epochs"]) > 0:
        fit(fm, tr, int(t["rounded_epochs"]), float(t["lr_rounded"]), bs, seed, "rounded")
    qm = _quant_model(fm, cfg)
    qm.calibrate(torch.as_tensor(tr.images[:256]))
    if int(t["qat_epochs"]) > 0:
        fit(qm, tr, int(t["qat_epochs"]), float(t["lr_qat"]), bs, seed, "QAT")
    state = {
        "float": float_state,
        "rounded": fm.state_dict(),
        "quant": qm.state_dict(),
        "formats": {
            lay.name: [lay.in_exp, lay.in_zp, lay.out_exp, lay.out_zp] for lay in qm.layers
        },
    }
    report = {"model": NAME, "train_seconds": round(time.time() - t0, 1), **cfg}
    with together(paths.model_dir(NAME)) as staged:
        checkpoint.save(staged.path(_ck()), NAME, cfg, state)
        staged.json(paths.reports_dir(NAME) / "train.json", report)
    return report


def load():
    """(float bilinear model, float rounded model, QuantCodeNet, config) from the checkpoint."""
    from codesign.codenet.model import FloatCodeNet
    from codesign.data.detection import CLASSES

    if not _ck().is_file():
        raise CodesignError(f"no checkpoint for '{NAME}' at {_ck()} (run `codesign train {NAME}`)")
    ck = _ck()
    st = checkpoint.load(ck, ("config", "float", "rounded", "quant", "formats"), NAME)
    cfg = config(st["config"])  # a checkpoint's settings are checked like --set
    m = cfg["model"]
    fm = FloatCodeNet(int(m["channels"]), len(CLASSES), int(m["blocks"]), "bounded")
    checkpoint.load_state(fm, st["float"], ck, "float")
    rm = FloatCodeNet(int(m["channels"]), len(CLASSES), int(m["blocks"]), "rounded")
    checkpoint.load_state(rm, st["rounded"], ck, "rounded")
    qm = _quant_model(rm, cfg)
    checkpoint.load_state(qm, st["quant"], ck, "quant")
    for lay in qm.layers:
        fmt = st["formats"].get(lay.name) if isinstance(st["formats"], dict) else None
        if not isinstance(fmt, (list, tuple)) or len(fmt) != 4:
            raise CodesignError(f"{ck}: checkpoint 'formats' has no entry for layer {lay.name!r}")
        lay.in_exp, lay.in_zp, lay.out_exp, lay.out_zp = (int(v) for v in fmt)
    return fm.eval(), rm.eval(), qm.eval(), cfg


def flow_train(model: str = NAME) -> dict:
    from codesign.models.training import deterministic

    cfg = config()
    with deterministic(int(cfg.get("train", {}).get("seed", 0))):
        return train(cfg)


def flow_export(model: str = NAME) -> dict:
    from codesign.codenet.export import load_graph, to_graph, write_onnx
    from codesign.codenet.graph import codenet_net
    from codesign.codenet.model import BLOCK

    _, _, qm, cfg = load()
    size = int(cfg["data"]["size"])
    g = to_graph(qm, NAME, (BLOCK * BLOCK, size // BLOCK, size // BLOCK), BLOCK, BLOCK)
    g.meta["built_from"] = paths.source_of(_ck(), paths.model_dir(NAME))
    path = write_onnx(g, paths.onnx_path(NAME))
    back = codenet_net(load_graph(path, NAME))
    return {
        "path": str(path),
        "macs": back.macs(),
        "layers": [
            {
                "name": lay.name,
                "kind": lay.kind,
                "src": lay.src,
                "s_src": lay.s_src,
                "shape": list(lay.weight.shape),
                "weight_bits": lay.weight_bits,
                "codebook": None if lay.codebook is None else list(lay.codebook),
                "relu": lay.relu,
                "out_exp": lay.out_exp,
                "out_zp": lay.out_zp,
            }
            for lay in back.layers
        ],
    }


def _ap(head_real: np.ndarray, ds, classes: int, stride: int) -> float:
    from codesign.codenet import centernet, metrics

    return metrics.coco_ap50(
        centernet.decode(head_real, classes, stride), ds.boxes, ds.labels, classes
    )


def flow_golden(model: str = NAME) -> dict:
    """Golden model on the test split vs PyTorch integer mode (every layer), and AP50s."""
    from codesign.codenet import golden
    from codesign.codenet.export import load_graph
    from codesign.codenet.graph import codenet_net
    from codesign.ir.compare import compare_layers

    graph = load_graph(paths.onnx_path(NAME), NAME)
    paths.check_built_from(  # PyTorch (the checkpoint) is compared with the exported file
        str(paths.onnx_path(NAME)),
        graph.meta.get("built_from"),
        paths.model_dir(NAME),
        f"codesign export {NAME}",
    )
    g = codenet_net(graph)
    fm, rm, qm, cfg = load()
    _, te = data(cfg)
    x = torch.as_tensor(te.images)
    t0 = time.time()
    gt = golden.run(graph, golden.image_to_input(graph, te.images))
    golden_s = time.time() - t0
    names = [lay.name for lay in g.layers]
    pt = {k: v.numpy().astype(np.int64) for k, v in qm.forward_int(x).items()}
    cmp = compare_layers(gt, pt, ["input", *names], "golden", "pytorch")
    qonnx_ok = _qonnx_check(g, gt)  # the file's wiring; PyTorch integer mode is the oracle
    with torch.no_grad():
        ap = {
            "float": _ap(fm(x).numpy(), te, g.classes, g.stride),
            "float_rounded_offsets": _ap(rm(x).numpy(), te, g.classes, g.stride),
            "quant_rounded_pytorch": _ap(
                qm.head_real(torch.as_tensor(pt["head"])).numpy(), te, g.classes, g.stride
            ),
            "quant_rounded_golden": _ap(
                golden.head_real(graph, gt["head"]), te, g.classes, g.stride
            ),
        }
    report = {
        "model": NAME,
        "samples": len(te),
        "mismatches": cmp["mismatches"],
        "layer_mismatches": cmp["layers"],
        "first_mismatch": cmp["first_mismatch"],
        "graph_file_wiring_ok": qonnx_ok,  # not an oracle: qonnx runs the same op code
        "qonnx_execute_equals_golden": qonnx_ok,  # the former name of the line above
        "ap50": ap,
        "ap50_drop_points": round(100 * (ap["float"] - ap["quant_rounded_golden"]), 2),
        "ap50_implementation": "pycocotools COCOeval, iouThrs=[0.5], mean over classes",
        "golden_seconds": round(golden_s, 3),
        "requantisation": "CoDeNet: ((acc*scale + 2^15) >> 16) + bias; relu: max(q,0) - 128; clamp",
    }
    golden_io.save(NAME, gt, reports={"golden.json": report})
    if cmp["mismatches"]:
        from codesign.ir.compare import describe

        msg = describe(cmp, "golden", "pytorch")
        raise CodesignError(f"golden model differs from PyTorch: {msg}")
    return report


def _qonnx_check(g, gt: dict) -> bool:
    """qonnx's executor on the exported graph file == golden, image 0 (a check of the file's
    wiring: each node runs its registry op, codesign/graph/qonnx_ops.py)."""
    from codesign.graph.qonnx_ops import run_with_qonnx

    ctx = run_with_qonnx(paths.onnx_path(NAME), gt["input"][:1])
    return all(np.array_equal(ctx[lay.name], gt[lay.name][:1]) for lay in g.layers)


def _golden_tensors() -> dict[str, np.ndarray]:
    return golden_io.load_model(NAME)


def flow_rtl(model: str = NAME, cfg: dict | None = None) -> dict:
    """Generate codenet_accel for this model, lint it, and measure it with Yosys."""
    from codesign.codenet import rtl
    from codesign.codenet.export import load_graph
    from codesign.rtl.lint import lint
    from codesign.rtl.synth import xc7_resources

    cfg = cfg or config()
    g = load_graph(paths.onnx_path(NAME), NAME)
    root = paths.model_dir(NAME)
    with together(root) as staged:  # RTL, its Yosys folder and rtl.json: all or none
        out = root / "rtl"
        man = rtl.generate(g, out, int(cfg["rtl"]["pa"]), int(cfg["rtl"]["pe"]), staged)
        new = staged.find(out)  # linted and measured before it replaces rtl/
        lt = lint([new / s for s in man["sources"]], man["top"])
        report = {
            "top": man["top"],
            "hw": man["hw"],
            "rtl_dir": out.name,  # relative to the model's folder
            "lint": {"warnings": lt["warnings"], "errors": lt["errors"]},
        }
        if lt["warnings"] or lt["errors"]:
            raise CodesignError(f"verilator lint of {man['top']}: {lt['log'][:500]}")
        if cfg["rtl"].get("yosys", True):
            # its own folder: `codesign synth codenet_tiny` keeps synth/xc7/ beside it
            report["yosys"] = xc7_resources(new, staged.dir(root / "synth" / "rtl"))
            if "log" in report["yosys"]:  # where the log will be, not where Yosys wrote it
                report["yosys"]["log"] = "synth/rtl/yosys.log"
        staged.json(paths.reports_dir(NAME) / "rtl.json", report)
    return report


def flow_synth(model: str = NAME, target: str = "xc7") -> dict:
    """`codesign synth codenet_tiny`: Yosys xc7 resources of the generated accelerator
    (reports/synth_xc7.json; the generic dense synthesis expects a stream top this model lacks)."""
    from codesign.rtl.synth import xc7_step

    if target != "xc7":
        raise CodesignError(f"`codesign synth {NAME}` synthesises for xc7 only, not '{target}'")

    root = paths.model_dir(NAME)
    rtl_manifest.load(root / "rtl", "codenet")
    report = root / "reports" / "synth_xc7.json"
    return xc7_step(root, root / "synth" / "xc7", report, lambda res: {**res, "model": NAME})


def flow_sim(model: str = NAME, cfg: dict | None = None) -> dict:
    """Verilator run of the accelerator on a few test images; writes reports/codenet.json + PNG."""
    from codesign.codenet import centernet, golden, perf, plot, rtl
    from codesign.codenet.export import load_graph
    from codesign.codenet.graph import codenet_net
    from codesign.codenet.paper_scale import accounting

    cfg = cfg or config()
    graph = load_graph(paths.onnx_path(NAME), NAME)
    g = codenet_net(graph)
    gt = _golden_tensors()
    rtl_dir = paths.model_dir(NAME) / "rtl"
    man = rtl_manifest.load(rtl_dir, "codenet")
    images = list(range(int(cfg["rtl"]["sim_images"])))
    t0 = time.time()
    sim = rtl.simulate(rtl_dir, gt, images, paths.model_dir(NAME) / "sim")
    sim_s = time.time() - t0
    pa, pe = man["hw"]["PA"], man["hw"]["PE"]
    model_c = perf.graph_cycles(graph, pa, pe)
    sim_total = sum(sim["cycles"].values())
    model_total = sum(r["model_cycles"] for r in model_c.values())
    ideal_total = sum(r["ideal_cycles"] for r in model_c.values())
    clock = float(cfg["rtl"]["clock_mhz"])
    layers = {
        n: {
            "sim_cycles": sim["cycles"][n],
            "model_cycles": r["model_cycles"],
            "ideal_cycles": r["ideal_cycles"],
            "weight_load_cycles": sim["load_cycles"][n],
            "mismatches": sim["layer_mismatches"][n],
        }
        for n, r in model_c.items()
    }
    perf_rep = {
        "pa": pa,
        "pe": pe,
        "clock_mhz": clock,
        "sim_cycles_per_frame": sim_total,
        "model_cycles_per_frame": model_total,
        "ideal_cycles_per_frame": round(ideal_total, 1),
        "model_error_pct": round(100 * (model_total - sim_total) / sim_total, 3),
        "efficiency_ideal_over_sim": round(ideal_total / sim_total, 3),
        "weight_load_cycles_per_frame": sum(sim["load_cycles"].values()),
        "fps_at_clock": round(clock * 1e6 / sim_total, 1),
        "layers": layers,
    }
    rep_dir = paths.reports_dir(NAME)
    gold_rep = (
        json.loads((rep_dir / "golden.json").read_text())
        if (rep_dir / "golden.json").is_file()
        else {}
    )
    rtl_rep = (
        json.loads((rep_dir / "rtl.json").read_text()) if (rep_dir / "rtl.json").is_file() else {}
    )
    _, te = data(load()[3])  # the test split the golden tensors were computed on
    show = list(range(min(4, len(te))))
    dets = centernet.decode(golden.head_real(graph, gt["head"][show]), g.classes, g.stride)
    png = plot.draw_detections(
        te.images[show],
        dets,
        [te.boxes[i] for i in show],
        rep_dir / "detections.png",
    )
    report = {
        "model": NAME,
        "macs_per_frame": g.macs(),
        "golden": {
            k: gold_rep.get(k)
            for k in (
                "samples",
                "mismatches",
                "ap50",
                "ap50_drop_points",
                "graph_file_wiring_ok",
                "qonnx_execute_equals_golden",  # the former name of the line above
            )
        },
        "rtl_vs_golden": {
            "images": images,
            "mismatches": sim["mismatches"],
            "layer_mismatches": sim["layer_mismatches"],
            "first_mismatch": sim["first_mismatch"],
            "simulator": "verilator",
            "sim_seconds": round(sim_s, 1),
        },
        "performance": perf_rep,
        "resources": rtl_rep.get("yosys"),
        "paper_scale": accounting(),
        "detections_png": str(png),
    }
    write_json(rep_dir / "codenet.json", report)
    if sim["mismatches"]:
        f = sim["first_mismatch"]
        raise CodesignError(
            f"RTL differs from golden: {sim['mismatches']} mismatches, first at layer {f['layer']} "
            f"image {f['image']} channel {f['channel']} pixel {f['pixel']}: "
            f"golden={f['golden']} rtl={f['rtl']}"
        )
    return {k: v for k, v in report.items() if k != "paper_scale"} | {
        "paper_scale": {
            k: report["paper_scale"][k] for k in ("gmac", "weight_mb", "fps_model", "fps_ideal")
        }
    }
