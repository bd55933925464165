"""The flows behind the CLI verbs: train -> export -> golden -> energy, per zoo model.

Each step reads the previous step's artefacts under build/<model>/ and writes its own (atomically)
plus a JSON report; the CLI and the Makefile only call these functions.
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from codesign import checkpoint, golden_io, paths
from codesign.atomic import together, write_json
from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.ir.compare import compare_layers
from codesign.models import zoo
from codesign.models.training import deterministic

CHECKPOINT_KEYS = ("config", "quant", "float")  # what train writes and load_trained needs
BUILT_FROM = "codesign.built_from"  # model.onnx metadata: the checkpoint it was exported from


def checkpoint_path(model: str):
    return paths.model_dir(model) / "checkpoint.pt"


def train(model: str, overrides: dict | None = None) -> dict:
    """Train float baseline + QAT model; save both in one checkpoint (one write, so a killed
    run never leaves a new float model beside an old quantized one) and reports/train.json."""
    mod = zoo.module(model)
    cfg = mod.config(overrides)
    t0 = time.time()
    with deterministic(int(cfg.get("train", {}).get("seed", 0))):
        fm, qm, metrics = mod.train(cfg)
    state = {"quant": qm.state_dict(), "float": fm.state_dict(), "metrics": metrics}
    report = {"model": model, **metrics, "train_seconds": round(time.time() - t0, 2), **cfg}
    with together(paths.model_dir(model)) as staged:
        checkpoint.save(staged.path(checkpoint_path(model)), model, cfg, state)
        staged.json(paths.reports_dir(model) / "train.json", report)
    return report


def ensure_trained(model: str) -> dict | None:
    """Reuse the checkpoint when its configuration still matches the flow file."""
    ck = checkpoint_path(model)
    cfg = zoo.module(model).config()
    if ck.is_file():
        try:
            saved = checkpoint.load(ck, CHECKPOINT_KEYS, model)
        except CodesignError:  # another version's or a damaged file: it is only a cache here
            saved = {}
        if saved.get("config_hash") == checkpoint.config_hash(cfg):
            return None
    return train(model)


def load_trained(model: str):
    """(float_model, quant_model, config) from build/<model>/."""
    mod = zoo.module(model)
    ck = checkpoint_path(model)
    if not ck.is_file():
        raise CodesignError(f"no checkpoint for '{model}' at {ck} (run `codesign train {model}`)")
    saved = checkpoint.load(ck, CHECKPOINT_KEYS, model)
    cfg = mod.config(saved["config"])  # a checkpoint's settings are checked like --set
    qm = mod.build(cfg)
    checkpoint.load_state(qm, saved["quant"], ck, "quant")
    fm = mod.FloatMLP()
    checkpoint.load_state(fm, saved["float"], ck, "float")
    return fm.eval(), qm.eval(), cfg


def export(model: str) -> dict:
    """QONNX export of the trained QAT model to build/<model>/onnx/model.onnx."""
    from codesign.ir.chain import load_int_graph
    from codesign.ir.export import export_qonnx_model

    mod = zoo.module(model)
    _, qm, cfg = load_trained(model)
    path = paths.onnx_path(model)
    meta = {
        "codesign.model": model,
        "codesign.config": json.dumps(cfg, sort_keys=True),
        BUILT_FROM: json.dumps(paths.source_of(checkpoint_path(model), paths.model_dir(model))),
    }
    export_qonnx_model(qm, mod.example_input(), path, meta)
    graph = load_int_graph(path, model)
    return {
        "path": str(path),
        "layers": [
            {
                "name": lay.name,
                "quantizer": lay.quantizer,
                "shape": list(lay.weight.shape),
                "weight_bits": lay.weight_bits,
                "codebook_size": None if lay.codebook is None else len(lay.codebook),
                "acc_bits": lay.acc_bits,
            }
            for lay in graph.layers
        ],
    }


def _check_exported_from_checkpoint(model: str) -> None:
    """golden compares model.onnx with the checkpoint's PyTorch model: refuse a pair that are
    not one model (a train since the export), naming the command that makes them one again."""
    import onnx

    path = paths.onnx_path(model)
    if not path.is_file():
        return
    try:
        proto = onnx.load(str(path), load_external_data=False)
        props = {p.key: p.value for p in proto.metadata_props}
        recorded = json.loads(props[BUILT_FROM]) if BUILT_FROM in props else None
    except Exception:  # a damaged file is named by the graph loader that follows
        return
    paths.check_built_from(str(path), recorded, paths.model_dir(model), f"codesign export {model}")


def torch_integer_tensors(qm, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Per-layer integers of the PyTorch fake-quant model, evaluated in float64.

    float64 holds every product and sum of the dyadic values exactly (< 53 bits), so dividing by
    the power-of-two scale gives the model's integers with no float rounding in the way.
    """
    qm64 = qm.double().eval()
    try:
        with torch.no_grad():
            outs = qm64.forward_layers(torch.as_tensor(x).double())
        result = {}
        for name, qt in zip(["input", *names], outs, strict=True):
            # Activation stages (ASQ, AdaLog) return objects that know their integer codes.
            v = qt.int_repr().numpy() if hasattr(qt, "int_repr") else (qt.value / qt.scale).numpy()
            if not np.array_equal(v, np.round(v)):
                raise CodesignError(f"PyTorch layer '{name}' output is not on its integer grid")
            result[name] = v.astype(np.int64)
        return result
    finally:
        qm.float()


def golden(model: str) -> dict:
    """Run the integer golden model on the test split and compare with PyTorch, layer by layer."""
    from codesign.ir.chain import load_int_graph

    mod = zoo.module(model)
    _check_exported_from_checkpoint(model)
    graph = load_int_graph(paths.onnx_path(model), model)
    fm, qm, _ = load_trained(model)
    _, _, xte, yte = mod.data()
    t0 = time.time()
    g = chain.run_float(graph, xte)
    golden_s = time.time() - t0
    names = [lay.name for lay in graph.layers]
    pt = torch_integer_tensors(qm, xte, names)
    cmp = compare_layers(g, pt, ["input", *names], "golden", "pytorch")
    with torch.no_grad():
        acc_float = float((fm(torch.as_tensor(xte)).argmax(1).numpy() == yte).mean())
    report = {
        "model": model,
        "samples": int(len(xte)),
        "mismatches": cmp["mismatches"],
        "layer_mismatches": cmp["layers"],
        "first_mismatch": cmp["first_mismatch"],
        "accuracy_float": acc_float,
        "accuracy_quant": float((pt[names[-1]].argmax(1) == yte).mean()),
        "accuracy_golden": float((g[names[-1]].argmax(1) == yte).mean()),
        "golden_seconds": round(golden_s, 4),
        "output_scale_exp": graph.output_q.scale_exp,
        "rounding": "half_even (QONNX ROUND) after integer multiplier and right shift",
    }
    golden_io.save(model, g, labels=yte, reports={"golden.json": report})
    return report


def energy(model: str) -> dict:
    """45 nm digital energy estimate from the integer graph."""
    from codesign.energy.digital import estimate
    from codesign.ir.chain import load_int_graph

    report = estimate(load_int_graph(paths.onnx_path(model), model))
    write_json(paths.reports_dir(model) / "energy.json", report)
    return report
