"""hd_snn: one heterogeneous-delay spiking layer (HD-SNN, Grimaldi & Perrinet 2023) on the
generated moving-dots stream: a causal 3-D conv over (time, y, x) whose temporal taps are the
synaptic delays, integer LIF neurons, one output channel per motion direction; the class is the
channel with the most spikes. Baseline: the same layer with a single delay (no temporal taps).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from codesign.graph.core import Graph
from codesign.layers.hdconv import HDConv3d
from codesign.layers.lif import LIF, lif_integer

# CLI hooks (`codesign <verb> <model>`): one implementation for every spiking model.
from codesign.snn.flow import export as flow_export  # noqa: F401
from codesign.snn.flow import golden as flow_golden  # noqa: F401
from codesign.snn.flow import rtl as flow_rtl  # noqa: F401
from codesign.snn.flow import sim as flow_sim  # noqa: F401
from codesign.snn.flow import synth as flow_synth  # noqa: F401
from codesign.snn.flow import train as flow_train  # noqa: F401
from codesign.snn.graph import build as build_graph
from codesign.snn.graph import spiking_net
from codesign.snn.quantize import init_quant, make_quant, thresholds

NAME = "hd_snn"
COUNT_GAIN = 0.05  # spike counts -> logits for the cross-entropy (argmax is unaffected)
DEFAULTS = {
    "data": {
        "size": 10,
        "steps": 16,
        "n_dirs": 4,
        "dots": 3,
        "noise": 0.005,
        "n_train": 1024,
        "n_test": 256,
    },
    # leak_shift 0: V = I each step (a coincidence detector, like the DCLS reference's tau ~ 1
    # step), so the heterogeneous delays are the layer's only memory; with 1 the leak alone
    # already gives some direction selectivity (measured: 100 % vs 94.5 % without delays).
    "model": {"delays": 3, "kernel": 5, "leak_shift": 0},
    "quant": {"weight_quant": "uniform", "weight_bits": 8},
    "train": {
        "seed": 0,
        "epochs": 6,
        "lr": 0.01,
        "batch_size": 32,
        "qat_epochs": 2,
        "lr_qat": 0.002,
        "baseline_epochs": 6,
    },
    "rtl": {"test_samples": 4, "clock_mhz": 100},
}


class HDSNN(nn.Module):
    """Events (B, T, 2, H, W) -> HDConv3d -> (BN while training) -> LIF -> spike counts."""

    def __init__(self, n_in: int, n_out: int, cfg: dict, learn_delays: bool = True) -> None:
        super().__init__()
        m, q = cfg["model"], cfg["quant"]
        delays = int(m["delays"]) if learn_delays else 1
        wq = make_quant(q["weight_quant"], n_out, int(q["weight_bits"]), per_tensor=False)
        self.conv = HDConv3d(n_in, n_out, delays, int(m["kernel"]), wq)
        self.bn: nn.Module = nn.BatchNorm1d(n_out)
        self.lif = LIF(int(m["leak_shift"]), 1.0, spiking=True)
        self.n_out = n_out
        self.quant_on = False

    @torch.no_grad()
    def fold_batchnorm(self) -> None:
        if isinstance(self.bn, nn.BatchNorm1d):
            g = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
            self.conv.fold_scale(g, self.bn.bias - g * self.bn.running_mean)
            self.bn = nn.Identity()

    def round_delays(self) -> None:
        """Delays are integer taps already."""

    def start_qat(self) -> None:
        self.fold_batchnorm()
        init_quant(self.conv.weight_quant, self.conv.weight)
        self.conv.quant_on = True
        self.quant_on = True

    def spikes(self, x: torch.Tensor) -> torch.Tensor:
        cur = self.conv(x)
        if isinstance(self.bn, nn.BatchNorm1d):
            b, t, c, h, w = cur.shape
            cur = self.bn(cur.permute(0, 2, 1, 3, 4).reshape(b, c, -1))
            cur = cur.reshape(b, c, t, h, w).permute(0, 2, 1, 3, 4)
        scale = None
        if self.quant_on:
            scale = self.conv.integer_weights()[1].to(x.dtype).reshape(-1, 1, 1)
        return self.lif(cur, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spikes(x).sum(dim=(1, 3, 4)) * COUNT_GAIN

    def to_graph(self, steps: int, name: str = NAME) -> Graph:
        """The integer graph: one Delay (weights indexed by delay tap) -> LIF layer."""
        wi, scale = self.conv.integer_weights()
        lay = {
            "name": "hd0",
            "weight": wi.numpy(),
            "threshold": thresholds(scale.numpy()),
            "leak_shift": self.lif.leak_shift,
            "spiking": True,
            "scale": scale.numpy(),
            "weight_bits": self.conv.weight_quant.index_bits,
            "quantizer": self.conv.weight_quant.kind,
            "bias": self.conv.integer_bias().numpy(),
        }
        return build_graph(name, steps, self.input_shape, [lay], "spike_count")

    @torch.no_grad()
    def integer_forward(self, x: np.ndarray, graph: Graph) -> dict[str, np.ndarray]:
        net = spiking_net(graph)
        s = torch.as_tensor(np.asarray(x, dtype=np.int64))
        lay = net.layers[0]
        cur = self.conv.integer_current(s)
        th = torch.as_tensor(np.array(lay.threshold)).reshape(-1, 1, 1)
        sp, v = lif_integer(cur, th, lay.leak_shift, net.v_bits, True)
        out = {"input": s.numpy(), lay.name: sp.numpy(), f"{lay.name}.v": v.numpy()}
        out["scores"] = out[lay.name].sum(axis=(1, 3, 4))
        return out


def config(overrides: dict | None = None) -> dict:
    from codesign.config import load

    return load(NAME, DEFAULTS, overrides)


def data(cfg: dict):
    from codesign.data.spiking import moving_dots

    d = cfg["data"]
    kw = {k: int(d[k]) for k in ("size", "steps", "n_dirs", "dots")}
    xtr, ytr = moving_dots(int(d["n_train"]), seed=1, noise=float(d["noise"]), **kw)
    xte, yte = moving_dots(int(d["n_test"]), seed=2, noise=float(d["noise"]), **kw)
    return xtr, ytr, xte, yte


def build(cfg: dict, n_in: int, n_out: int, learn_delays: bool = True) -> HDSNN:
    net = HDSNN(n_in, n_out, cfg, learn_delays)
    s = int(cfg["data"]["size"])
    net.input_shape = (n_in, s, s)
    return net


def train(cfg: dict) -> tuple[HDSNN, HDSNN, dict]:
    from codesign.snn.train import accuracy, fit_snn

    t = cfg["train"]
    xtr, ytr, xte, yte = data(cfg)
    n_in, n_out = xtr.shape[2], int(cfg["data"]["n_dirs"])
    seed, bs = int(t["seed"]), int(t["batch_size"])
    torch.manual_seed(seed)
    net = build(cfg, n_in, n_out, True)
    fit_snn(net, xtr, ytr, int(t["epochs"]), float(t["lr"]), bs, seed, "HD-SNN float")
    metrics = {"accuracy_float": accuracy(net, xte, yte)}
    metrics["accuracy_rounded"] = metrics["accuracy_float"]  # delays are integer taps
    net.start_qat()
    fit_snn(net, xtr, ytr, int(t["qat_epochs"]), float(t["lr_qat"]), bs, seed, "QAT")
    metrics["accuracy_qat"] = accuracy(net, xte, yte)
    torch.manual_seed(seed)
    base = build(cfg, n_in, n_out, False)
    fit_snn(base, xtr, ytr, int(t["baseline_epochs"]), float(t["lr"]), bs, seed, "baseline")
    metrics["accuracy_baseline_float"] = accuracy(base, xte, yte)
    base.start_qat()
    fit_snn(base, xtr, ytr, int(t["qat_epochs"]), float(t["lr_qat"]), bs, seed, "baseline QAT")
    return net, base, metrics
