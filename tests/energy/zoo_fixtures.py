"""Small hand-built stand-ins for each zoo model kind, written like the real flows write them.

dense (digits_mlp): the 6-4-3 MLP of test_energy_cli; snn dense with delays (delay_snn): a
snn_testgraphs-style graph; snn hdconv (hd_snn): tests/snn/snn_testgraphs.py random_hd_graph
with 2 delay taps; CoDeNet (codenet_tiny): a 2-channel stem -> offset -> square-deformable
depthwise -> head graph on 4x4 pixels. Golden tensors come
from the real golden executors; the simulator reports (RTL cycles, Yosys resources) are fixed
numbers shaped like the real ones.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

import numpy as np

from codesign import paths
from codesign.atomic import write_json
from codesign.graph.core import Graph
from codesign.snn.graph import spiking_net

# the SNN and CoDeNet test graphs live in tests/snn and tests/codenet (pytest puts only this
# folder on sys.path)
for _folder in ("snn", "codenet"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / _folder))
from codenet_testgraphs import spec  # noqa: E402
from snn_testgraphs import (  # noqa: E402  (hand_snn_graph: re-exported for the energy tests)
    hand_snn_graph as hand_snn_graph,
)
from snn_testgraphs import random_dense_graph, random_hd_graph, random_spikes  # noqa: E402


def hand_input_spikes(steps: int = 4) -> np.ndarray:
    """Input 0 spikes at t = 0, input 1 at t = 2 (one sample)."""
    s = np.zeros((1, steps, 2), np.int64)
    s[0, 0, 0] = 1
    s[0, 2, 1] = 1
    return s


snn_dense_graph = partial(
    random_dense_graph,
    steps=12,
    sizes=(4, 5, 3),
    max_delay=3,
    threshold=(30, 60),
    alternate_leak=False,
    name="snn_dense",
)
snn_hd_graph = partial(
    random_hd_graph, steps=6, size=4, delays=2, threshold=(50, 60), zero_tap=True, name="snn_hd"
)
spikes = partial(random_spikes, dtype=np.int64)


def codenet_graph(c: int = 2, hw: int = 4, head_codebook: tuple[int, ...] | None = None):
    """stem -> off1 -> dw1 -> head; head_codebook: the head's weights drawn from these POST
    levels (3-bit indices)."""
    from codesign.codenet import integer as I
    from codesign.codenet.graph import build

    rng = np.random.default_rng(3)

    def pw(name, src, cout, cin, bits, relu, out_zp):
        q = 2 ** (bits - 1) - 1
        w = rng.integers(-q, q + 1, (cout, cin))
        return spec(
            name,
            "pw",
            src,
            w,
            np.full(cout, 9000),
            rng.integers(-5, 6, cout),
            relu,
            -8,
            out_zp,
            bits,
        )

    stem = pw("stem", "input", c, c, 8, True, I.ZP)
    off = pw("off1", "stem", 1, c, 8, False, 0)
    w = rng.integers(-7, 8, (c, 9))
    dw = spec("dw1", "dw", "stem", w, np.full(c, 12000), np.zeros(c), False, -8, 0, 4, s_src="off1")
    head = pw("head", "dw1", 3, c, 4, False, 0)
    if head_codebook is not None:
        cb = tuple(head_codebook)
        w = np.random.default_rng(0).choice(cb, head["weight"].shape)
        head = {**head, "weight": w, "weight_bits": 3, "codebook": cb}
    return build("cn_small", (c, hw, hw), [stem, off, dw, head], 2, 4, 4)


def codenet_input(graph, n: int = 6) -> np.ndarray:
    return np.random.default_rng(4).integers(-128, 128, (n, *graph.tensors["input"].shape))


def write_snn(model: str, graph: Graph, x: np.ndarray) -> dict:
    from codesign.graph import onnx_file
    from codesign.snn import golden
    from codesign.snn.report import statistics

    onnx_file.save(graph, paths.onnx_path(model))
    t = golden.run(graph, x)
    paths.golden_dir(model).mkdir(parents=True, exist_ok=True)
    np.savez(paths.golden_dir(model) / "layers.npz", **t)
    rep = paths.reports_dir(model)
    net = spiking_net(graph)
    synapses = sum(lay.synapse_count() for lay in net.layers)
    write_json(
        rep / "snn.json",
        {"model": model, "golden": statistics(graph, t), "rtl_cycles_per_step": 30.0},
    )
    write_json(rep / "rtl.json", {"steps": net.steps, "synapses": synapses})
    write_json(rep / "sim.json", {"samples": 2, "cycles_per_sample": 400.0})
    write_json(rep / "synth_xc7.json", {"LUT": 300, "FF": 90, "DSP": 0, "BRAM": 2, "CARRY": 8})
    return t


def write_codenet(model: str, graph, x: np.ndarray) -> dict:
    from codesign.codenet import export, golden
    from codesign.codenet.graph import codenet_net

    export.write_onnx(graph, paths.onnx_path(model))
    t = golden.run(graph, x)
    paths.golden_dir(model).mkdir(parents=True, exist_ok=True)
    np.savez(paths.golden_dir(model) / "layers.npz", **t)
    net = codenet_net(graph)
    _, h, w = net.input_shape
    perf = {lay.name: {"ideal_cycles": float(lay.weight.size * h * w / 4)} for lay in net.layers}
    write_json(
        paths.reports_dir(model) / "codenet.json",
        {
            "model": model,
            "macs_per_frame": net.macs(),
            "performance": {"sim_cycles_per_frame": 900, "pa": 2, "pe": 2, "layers": perf},
            "resources": {"LUT": 500, "FF": 100, "DSP": 4, "BRAM": 1, "CARRY": 20},
        },
    )
    return t


def read_energy(model: str) -> dict:
    return json.loads((paths.reports_dir(model) / "energy.json").read_text())
