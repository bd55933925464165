"""The flows behind `codesign train|export|golden|rtl|sim <spiking model>`.

Each step reads the previous step's artefacts under build/<model>/ and writes its own atomically:
  train  -> checkpoint.pt, reports/train.json, reports/snn.json (accuracies)
  export -> onnx/model.onnx (the one graph's file: Delay / LIF nodes), nir/model.nir,
            reports/export.json
  golden -> golden/layers.npz, reports/snn.json (+ SOP, spike rates, delay histogram, memory),
            reports/delays.png, reports/raster.png
  rtl    -> rtl/ (generated top + tables + manifest), reports/rtl.json
  sim    -> reports/sim.json (RTL vs golden, spike for spike), RTL cycles per step in snn.json
  synth  -> reports/synth_xc7.json (Yosys synth_xilinx of the generated core; FPGA energy row)
`shd_delays` is delay_snn on the SHD HDF5 file given as data.path (see codesign/snn/cli.py).
"""

from __future__ import annotations

import json
import time

import numpy as np

from codesign import checkpoint, golden_io, paths
from codesign.atomic import together, write_json
from codesign.errors import CodesignError
from codesign.models.training import deterministic
from codesign.rtl import manifest as rtl_manifest

ALIASES = {"shd_delays": "codesign.models.delay_snn"}


def module_for(model: str):
    import importlib

    from codesign.models import zoo

    if model in ALIASES:
        return importlib.import_module(ALIASES[model])
    return zoo.module(model)


def shd_split(d: dict, test_fraction: float = 0.2, seed: int = 0):
    """SHD file -> fixed random train/test split (the file holds one split of the corpus)."""
    from codesign.data.spiking import load_shd

    if not d.get("path"):
        raise CodesignError("shd task needs a data file: --data PATH (SHD HDF5)")
    x, y = load_shd(d["path"], int(d.get("steps", 100)), int(d.get("shd_channels", 700)))
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = max(1, int(round(test_fraction * len(y))))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def checkpoint_path(model: str):
    return paths.model_dir(model) / "checkpoint.pt"


def update_report(model: str, section: dict, name: str = "snn.json") -> dict:
    """Merge keys into reports/<name> (read, update, write-then-rename)."""
    data = merged_report(model, section, name)
    write_json(paths.reports_dir(model) / name, data)
    return data


def merged_report(model: str, section: dict, name: str = "snn.json") -> dict:
    """reports/<name> with `section`'s keys merged in (not written)."""
    path = paths.reports_dir(model) / name
    data = json.loads(path.read_text()) if path.is_file() else {"model": model}
    data.update(section)
    return data


def integer_accuracy(net, graph, x: np.ndarray, y: np.ndarray) -> float:
    from codesign.snn.golden import predict

    return float((predict(net.integer_forward(x, graph)["scores"]) == y).mean())


def train(model: str, overrides: dict | None = None) -> dict:
    """Train (float with delays, rounded, QAT) and the no-delay baseline; save the checkpoint."""
    mod = module_for(model)
    cfg = mod.config(overrides)
    t0 = time.time()
    with deterministic(int(cfg.get("train", {}).get("seed", 0))):
        net, base, metrics = mod.train(cfg)
    _, _, xte, yte = mod.data(cfg)
    steps = int(xte.shape[1])
    metrics["accuracy_quant"] = integer_accuracy(net, net.to_graph(steps, model), xte, yte)
    metrics["accuracy_baseline_quant"] = integer_accuracy(
        base, base.to_graph(steps, model), xte, yte
    )
    metrics["delay_gain_points"] = round(
        100 * (metrics["accuracy_quant"] - metrics["accuracy_baseline_quant"]), 2
    )
    state = {
        "shape": [int(xte.shape[2]), int(net.n_out)],
        "net": net.state_dict(),
        "baseline": base.state_dict(),
        "metrics": metrics,
    }
    report = {"model": model, **metrics, "train_seconds": round(time.time() - t0, 1), **cfg}
    summary = merged_report(model, {"accuracy": metrics, "test_samples": int(len(yte))})
    with together(paths.model_dir(model)) as staged:
        checkpoint.save(staged.path(checkpoint_path(model)), model, cfg, state)
        staged.json(paths.reports_dir(model) / "train.json", report)
        staged.json(paths.reports_dir(model) / "snn.json", summary)
    return report


def load_trained(model: str):
    """(module, config, net, baseline) with the structure of a trained model (BN folded,
    delays rounded, quantizers on), weights from build/<model>/checkpoint.pt."""
    mod = module_for(model)
    ck = checkpoint_path(model)
    if not ck.is_file():
        raise CodesignError(f"no checkpoint for '{model}' at {ck} (run `codesign train {model}`)")
    saved = checkpoint.load(ck, ("config", "shape", "net", "baseline"), model)
    cfg = mod.config(saved["config"])  # a checkpoint's settings are checked like --set
    try:
        n_in, n_out = (int(v) for v in saved["shape"])
    except (TypeError, ValueError):
        raise CodesignError(
            f"{ck}: checkpoint 'shape' {saved['shape']!r} is not two sizes"
        ) from None
    nets = []
    for key, learn in (("net", True), ("baseline", False)):
        m = mod.build(cfg, n_in, n_out, learn)
        m.start_qat()
        checkpoint.load_state(m, saved[key], ck, key)
        nets.append(m.eval())
    return mod, cfg, nets[0], nets[1]


def export(model: str) -> dict:
    """Integer graph -> the graph file and NIR; both read back and compared before either
    replaces the old one (a difference names the node, param, index and both values)."""
    from codesign.graph import onnx_file as graph_file
    from codesign.snn import nir_io

    mod, cfg, net, _ = load_trained(model)
    _, _, xte, _ = mod.data(cfg)
    graph = net.to_graph(int(xte.shape[1]), model)
    graph.meta["built_from"] = paths.source_of(checkpoint_path(model), paths.model_dir(model))
    report = _export_report(model, graph)
    onnx_file, nir_file = paths.onnx_path(model), paths.model_dir(model) / "nir" / "model.nir"
    with together(paths.model_dir(model)) as staged:  # both files read back before either lands
        onnx_diffs = graph_file.differences(
            graph, graph_file.load(graph_file.save(graph, staged.path(onnx_file)))
        )
        nir_diffs = graph_file.differences(
            graph, nir_io.load(nir_io.save(graph, staged.path(nir_file)))
        )
        if onnx_diffs or nir_diffs:
            raise CodesignError(
                f"export round trip differs (nothing replaced): {onnx_diffs + nir_diffs}"
            )
        staged.json(paths.reports_dir(model) / "export.json", report)
    return report


def _export_report(model: str, graph) -> dict:
    from codesign.snn.graph import spiking_net

    spec = spiking_net(graph)
    onnx_file, nir_file = paths.onnx_path(model), paths.model_dir(model) / "nir" / "model.nir"
    return {
        "model": model,
        "onnx": str(onnx_file),
        "nir": str(nir_file),
        "onnx_roundtrip_equal": True,  # read back and compared before it was written
        "nir_roundtrip_equal": True,
        "differences": [],
        "v_bits": spec.v_bits,
        "layers": [
            {
                "name": lay.name,
                "kind": lay.kind,
                # synapse array: (out, in) dense, (out, in, delays, kh, kw) conv
                "shape": list(lay.weight.shape[:2] if lay.kind == "dense" else lay.weight.shape),
                "synapses": lay.synapse_count(),
                "max_delay": lay.max_delay,
                "leak_shift": lay.leak_shift,
                "spiking": lay.spiking,
                "weight_bits": lay.weight_bits,
                "quantizer": lay.quantizer,
            }
            for lay in spec.layers
        ],
    }


def golden(model: str, onnx_samples: int = 4) -> dict:
    """Golden model on the test split vs PyTorch integer mode (and, on a few samples, the graph
    file run by qonnx's executor: a check of the file's wiring, PyTorch is the oracle)."""
    from codesign.graph.qonnx_ops import run_with_qonnx
    from codesign.ir.compare import compare_layers
    from codesign.snn import golden as gold
    from codesign.snn.graph import spiking_net
    from codesign.snn.report import plot_delays, plot_raster, statistics

    mod, cfg, net, _ = load_trained(model)
    graph = load_graph(model)
    paths.check_built_from(  # PyTorch (the checkpoint) is compared with the exported file
        str(paths.onnx_path(model)),
        graph.meta.get("built_from"),
        paths.model_dir(model),
        f"codesign export {model}",
    )
    spec = spiking_net(graph)
    _, _, xte, yte = mod.data(cfg)
    t0 = time.time()
    g = gold.run(graph, xte)
    golden_s = time.time() - t0
    pt = net.integer_forward(xte, graph)
    order = ["input"]
    for lay in spec.layers:
        order += [lay.name, f"{lay.name}.v"]
    order.append("scores")
    cmp = compare_layers(g, pt, order, "golden", "pytorch")
    n = min(onnx_samples, len(xte))
    ran = run_with_qonnx(paths.onnx_path(model), xte[:n])
    ox = {k: np.moveaxis(ran[k], -1, 1) for k in order[1:-1]}
    ox["scores"] = ran[graph.outputs[0]]
    okeys = order[1:]
    ocmp = compare_layers({k: g[k][:n] for k in okeys}, ox, okeys, "golden", "onnx")
    stats = statistics(graph, g)
    acc = float((gold.predict(g["scores"]) == yte).mean())
    report = {
        "samples": int(len(xte)),
        "mismatches": cmp["mismatches"],
        "layer_mismatches": cmp["layers"],
        "first_mismatch": cmp["first_mismatch"],
        "onnx_samples": n,
        "graph_file_wiring_mismatches": ocmp["mismatches"],  # not an oracle: same op code
        "onnx_mismatches": ocmp["mismatches"],  # the former name of the line above
        "accuracy_golden": acc,
        "golden_seconds": round(golden_s, 3),
        **stats,
    }
    summary = merged_report(model, {"golden": report})
    golden_io.save(model, g, labels=yte, reports={"snn.json": summary})
    rep_dir = paths.reports_dir(model)
    plot_delays(graph, rep_dir / "delays.png")
    plot_raster(graph, g, 0, rep_dir / "raster.png")
    if cmp["mismatches"] or ocmp["mismatches"]:
        from codesign.ir.compare import describe

        bad = cmp if cmp["mismatches"] else ocmp
        other = "pytorch" if cmp["mismatches"] else "onnx"
        raise CodesignError(f"golden model differs from {other}: {describe(bad, 'golden', other)}")
    return report


def load_graph(model: str):
    """The exported graph file of a spiking model (`codesign export` writes it)."""
    from codesign.graph import onnx_file as graph_file

    return graph_file.load(paths.onnx_path(model))


def rtl(model: str) -> dict:
    from codesign.snn.rtl import generate

    graph = load_graph(model)
    with together(paths.model_dir(model)) as staged:
        report = generate(graph, paths.model_dir(model) / "rtl", staged=staged)
        summary = {"rtl": {k: report[k] for k in ("memory_bits", "lint_warnings")}}
        staged.json(paths.reports_dir(model) / "rtl.json", report)
        staged.json(paths.reports_dir(model) / "snn.json", merged_report(model, summary))
    return report


def sim(model: str, samples: int | None = None, membranes: bool = True) -> dict:
    """RTL core under Verilator on the first `samples` test samples vs the golden model."""
    from codesign.snn.rtl_sim import simulate

    mod, cfg, _, _ = load_trained(model)
    graph = load_graph(model)
    _, _, xte, yte = mod.data(cfg)
    n = int(samples if samples is not None else cfg.get("rtl", {}).get("test_samples", 16))
    n = len(xte) if n <= 0 else min(n, len(xte))
    report = simulate(graph, xte[:n], paths.model_dir(model) / "rtl", membranes, yte[:n])
    keep = ("samples", "spike_mismatches", "membrane_mismatches", "score_mismatches")
    summary = {
        "rtl_sim": {k: report[k] for k in keep},
        "rtl_cycles_per_step": report["cycles_per_step"],
    }
    with together(paths.model_dir(model)) as staged:
        staged.json(paths.reports_dir(model) / "sim.json", report)
        staged.json(paths.reports_dir(model) / "snn.json", merged_report(model, summary))
    if report["spike_mismatches"] or report["membrane_mismatches"]:
        raise CodesignError(f"RTL differs from the golden model: {report['first_mismatch']}")
    return report


def synth(model: str, target: str = "xc7") -> dict:
    """Yosys xc7 resources of the generated core (the one Yosys runner, codesign/rtl/synth.py)."""
    from codesign.rtl.synth import xc7_step

    if target != "xc7":
        raise CodesignError(f"`codesign synth {model}` synthesises for xc7 only, not '{target}'")

    root = paths.model_dir(model)
    rtl_manifest.load(root / "rtl", "snn")
    report = root / "reports" / "synth_xc7.json"
    return xc7_step(
        root,
        root / "synth",
        report,
        lambda res: {**{k: v for k, v in res.items() if k != "cells"}, "model": model},
    )
