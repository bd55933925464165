"""delay_snn: spiking MLP with learnable synaptic delays (DCLS), 2 hidden LIF layers and a
leaky-integrator readout, on the generated timing task (classes differ only in spike timing).

Float training with Gaussian delay kernels (sigma annealed floor(K/2) -> 0.5), then delays
rounded to integers, then QAT of the weights (uniform or POST) with the membrane on its integer
grid. The same network with all delays 0 is the no-delay baseline. `codesign train|export|golden|
rtl|sim delay_snn` run through codesign/snn/flow.py.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from codesign.graph.core import Graph
from codesign.layers.delay import DelayLinear
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

NAME = "delay_snn"
DEFAULTS = {
    "data": {
        "task": "timing",
        "channels": 6,
        "classes": 8,
        "gap": 4,
        "jitter": 1,
        "max_onset": 8,
        "steps": 48,
        "n_train": 1024,
        "n_test": 512,
        "path": None,  # SHD HDF5 file (task: shd)
    },
    "model": {"hidden": [32, 32], "max_delay": 25, "leak_shift": 1},
    "quant": {"weight_quant": "uniform", "weight_bits": 8},
    "train": {
        "seed": 0,
        "epochs": 16,
        "lr": 0.003,
        "lr_pos": 0.1,
        "batch_size": 64,
        "qat_epochs": 4,
        "lr_qat": 0.001,
        "baseline_epochs": 12,
    },
    "rtl": {"test_samples": 16, "clock_mhz": 100},
}


class DelaySNN(nn.Module):
    """Input spikes (B, T, C) -> [DelayLinear -> LIF] x hidden -> DelayLinear -> LI readout."""

    def __init__(self, n_in: int, n_out: int, cfg: dict, learn_delays: bool = True) -> None:
        super().__init__()
        m, q = cfg["model"], cfg["quant"]
        sizes = [n_in, *m["hidden"], n_out]
        self.leak_shift = int(m["leak_shift"])
        self.n_out = n_out
        self.fcs = nn.ModuleList()
        self.lifs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            last = i == len(sizes) - 2
            wq = make_quant(q["weight_quant"], b, int(q["weight_bits"]), per_tensor=last)
            self.fcs.append(DelayLinear(a, b, int(m["max_delay"]), learn_delays, wq))
            self.lifs.append(LIF(self.leak_shift, 1.0, spiking=not last))
            # BatchNorm on hidden currents while training (as the DCLS reference); folded into
            # weights + a per-step bias current before delays are rounded (fold_batchnorm).
            self.bns.append(nn.BatchNorm1d(b) if not last else nn.Identity())
        self.quant_on = False

    def layer_names(self) -> list[str]:
        return [f"fc{i}" for i in range(len(self.fcs))]

    @torch.no_grad()
    def fold_batchnorm(self) -> None:
        """BN(I) = g * I + h with running statistics -> weights * g, bias h; BN removed."""
        for i, (fc, bn) in enumerate(zip(self.fcs, self.bns, strict=True)):
            if isinstance(bn, nn.BatchNorm1d):
                g = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                fc.fold_scale(g, bn.bias - g * bn.running_mean)
                self.bns[i] = nn.Identity()

    def round_delays(self) -> None:
        for fc in self.fcs:
            fc.rounded = True

    def start_qat(self) -> None:
        """Round delays, freeze positions, initialise the quantizers, switch quantization on."""
        self.fold_batchnorm()
        self.round_delays()
        for fc in self.fcs:
            init_quant(fc.weight_quant, fc.weight)
            fc.quant_on = True
        self.quant_on = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for fc, bn, lif in zip(self.fcs, self.bns, self.lifs, strict=True):
            scale = fc.integer_weights()[1].to(x.dtype) if self.quant_on else None
            cur = fc(x)
            if isinstance(bn, nn.BatchNorm1d):
                cur = bn(cur.transpose(1, 2)).transpose(1, 2)
            x = lif(cur, scale)
        return x.mean(dim=1)

    def to_graph(self, steps: int, name: str = NAME) -> Graph:
        """The integer graph (integer weights, delays, thresholds) on the one graph."""
        layers = []
        for lname, fc, lif in zip(self.layer_names(), self.fcs, self.lifs, strict=True):
            wi, scale = fc.integer_weights()
            layers.append(
                {
                    "name": lname,
                    "weight": wi.numpy(),
                    "delay": fc.delays().numpy(),
                    "threshold": thresholds(scale.numpy()) * int(lif.spiking),
                    "leak_shift": lif.leak_shift,
                    "spiking": lif.spiking,
                    "scale": scale.numpy(),
                    "weight_bits": fc.weight_quant.index_bits,
                    "quantizer": fc.weight_quant.kind,
                    "bias": fc.integer_bias().numpy(),
                }
            )
        return build_graph(name, steps, (self.fcs[0].in_features,), layers, "membrane_sum")

    @torch.no_grad()
    def integer_forward(self, x: np.ndarray, graph: Graph) -> dict[str, np.ndarray]:
        """PyTorch integer mode: conv-based integer currents + torch integer LIF."""
        net = spiking_net(graph)
        s = torch.as_tensor(np.asarray(x, dtype=np.int64))
        out = {"input": s.numpy()}
        for lay, fc in zip(net.layers, self.fcs, strict=True):
            cur = fc.integer_current(s)
            th = torch.as_tensor(np.array(lay.threshold))
            s, v = lif_integer(cur, th, lay.leak_shift, net.v_bits, lay.spiking)
            out[lay.name] = s.numpy()
            out[f"{lay.name}.v"] = v.numpy()
        out["scores"] = out[f"{net.layers[-1].name}.v"].sum(axis=1)
        return out


def config(overrides: dict | None = None) -> dict:
    from codesign.config import load

    return load(NAME, DEFAULTS, overrides)


def data(cfg: dict):
    """(xtr, ytr, xte, yte) uint8 rasters (N, T, C) and labels."""
    from codesign.data import spiking

    d = cfg["data"]
    if d["task"] == "shd":
        from codesign.snn.flow import shd_split

        return shd_split(d)
    kw = {k: int(d[k]) for k in ("channels", "classes", "gap", "jitter", "max_onset", "steps")}
    xtr, ytr = spiking.timing_task(int(d["n_train"]), seed=1, **kw)
    xte, yte = spiking.timing_task(int(d["n_test"]), seed=2, **kw)
    return xtr, ytr, xte, yte


def build(cfg: dict, n_in: int, n_out: int, learn_delays: bool = True) -> DelaySNN:
    return DelaySNN(n_in, n_out, cfg, learn_delays)


def train(cfg: dict) -> tuple[DelaySNN, DelaySNN, dict]:
    """Float DCLS training -> rounded delays -> QAT; plus the no-delay baseline."""
    from codesign.snn.train import accuracy, fit_snn

    t = cfg["train"]
    xtr, ytr, xte, yte = data(cfg)
    n_in, n_out = xtr.shape[2], int(max(ytr.max(), yte.max())) + 1
    seed = int(t["seed"])
    torch.manual_seed(seed)
    net = build(cfg, n_in, n_out, True)
    k = int(cfg["model"]["max_delay"])
    fit_snn(
        net,
        xtr,
        ytr,
        int(t["epochs"]),
        float(t["lr"]),
        int(t["batch_size"]),
        seed,
        "DCLS float",
        lr_pos=float(t["lr_pos"]),
        sigma0=float(k // 2),
    )
    metrics = {"accuracy_float": accuracy(net, xte, yte)}
    net.round_delays()
    metrics["accuracy_rounded"] = accuracy(net, xte, yte)
    net.start_qat()
    fit_snn(
        net, xtr, ytr, int(t["qat_epochs"]), float(t["lr_qat"]), int(t["batch_size"]), seed, "QAT"
    )
    metrics["accuracy_qat"] = accuracy(net, xte, yte)
    torch.manual_seed(seed)
    base = build(cfg, n_in, n_out, False)
    fit_snn(
        base,
        xtr,
        ytr,
        int(t["baseline_epochs"]),
        float(t["lr"]),
        int(t["batch_size"]),
        seed,
        "no-delay baseline",
    )
    metrics["accuracy_baseline_float"] = accuracy(base, xte, yte)
    base.start_qat()
    fit_snn(
        base,
        xtr,
        ytr,
        int(t["qat_epochs"]),
        float(t["lr_qat"]),
        int(t["batch_size"]),
        seed,
        "baseline QAT",
    )
    return net, base, metrics
