"""The integer spiking graph: a chain of (synapses with integer delays -> integer LIF) layers.

Integer semantics of one layer, per sample, time step t = 0 .. T-1, post-synaptic neuron j:

    I[t, j] = b[j] + sum over synapses (i -> j, weight w, delay d) of w * s_in[t - d, i]
              (a term is 0 if t < d; b is a constant current per step, from a folded BatchNorm)
    V[t, j] = sat(V[t-1, j] - (V[t-1, j] >> k) + I[t, j])        arithmetic shift, V[-1] = 0
    spike   = spiking and V[t, j] >= theta[j];  if spike: V[t, j] = 0     (hard reset)

sat() clamps to the signed `v_bits` membrane width (sized at export so it never triggers).
The readout layer is non-spiking: `membrane_sum` scores are sum_t V[t, j]; `spike_count`
scores are the spike totals of the last layer per channel (HD-SNN). Real values: one unit of
layer l's membrane is `scale[j]` (the weight scale), threshold theta[j] = ceil(1.0 / scale[j]).

Layer kinds: `dense` (weight (out, in), delay (out, in)) and `hdconv` (weight
(out, in, D, kh, kw) indexed by delay, 'same' zero padding in space).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from codesign.errors import CodesignError

KINDS = ("dense", "hdconv")
READOUTS = ("membrane_sum", "spike_count")


@dataclass
class SnnLayer:
    name: str
    kind: str
    weight: np.ndarray
    delay: np.ndarray | None
    threshold: np.ndarray  # (out_channels,) int64
    leak_shift: int
    spiking: bool
    scale: np.ndarray  # (out_channels,) float64, real value of one weight / membrane unit
    weight_bits: int = 8
    quantizer: str = "uniform"
    bias: np.ndarray | None = None  # (out_channels,) int64, added every step

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CodesignError(f"layer '{self.name}': unknown kind '{self.kind}'")
        self.weight = np.asarray(self.weight, dtype=np.int64)
        self.threshold = np.asarray(self.threshold, dtype=np.int64)
        self.scale = np.asarray(self.scale, dtype=np.float64)
        if self.bias is None:
            self.bias = np.zeros(self.out_channels, dtype=np.int64)
        self.bias = np.asarray(self.bias, dtype=np.int64)
        if self.bias.shape != (self.out_channels,):
            raise CodesignError(f"layer '{self.name}': bias shape {self.bias.shape}")
        if self.kind == "dense":
            if self.delay is None or np.shape(self.delay) != self.weight.shape:
                raise CodesignError(f"layer '{self.name}': delay shape must equal weight shape")
            self.delay = np.asarray(self.delay, dtype=np.int64)
            if self.delay.size and self.delay.min() < 0:
                raise CodesignError(f"layer '{self.name}': negative delay")
        if self.threshold.shape != (self.out_channels,):
            raise CodesignError(f"layer '{self.name}': threshold shape {self.threshold.shape}")
        if not 0 <= self.leak_shift <= 15:
            raise CodesignError(f"layer '{self.name}': leak_shift {self.leak_shift} not in 0..15")

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weight.shape[1])

    @property
    def max_delay(self) -> int:
        if self.kind == "dense":
            return int(self.delay.max(initial=0))
        return int(self.weight.shape[2]) - 1

    @property
    def fan_in_abs(self) -> np.ndarray:
        """Largest |synaptic input| per output channel: sum of |w| over its synapses."""
        return np.abs(self.weight).reshape(self.out_channels, -1).sum(axis=1)

    @property
    def current_abs(self) -> np.ndarray:
        """Largest |I| per output channel including the bias."""
        return self.fan_in_abs + np.abs(self.bias)

    def synapse_count(self) -> int:
        return int(np.count_nonzero(self.weight))


@dataclass
class SnnGraph:
    name: str
    steps: int
    input_shape: tuple[int, ...]  # per time step: (channels,) or (channels, H, W)
    layers: list[SnnLayer]
    readout: str = "membrane_sum"
    v_bits: int = 0  # 0: derive from the weights (membrane_bits)
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise CodesignError(f"graph '{self.name}': unknown readout '{self.readout}'")
        self.input_shape = tuple(int(v) for v in self.input_shape)
        if not self.v_bits:
            self.v_bits = membrane_bits(self.layers)

    @property
    def layer_names(self) -> list[str]:
        return [lay.name for lay in self.layers]

    def layer(self, name: str) -> SnnLayer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise CodesignError(f"no layer named '{name}' in {self.name}")


def membrane_bits(layers: list[SnnLayer]) -> int:
    """Signed membrane width that the leak/threshold dynamics can never overflow.

    Spiking: V < theta before an update, so V <= theta - 1 + max I; a negative V settles where
    its leak V / 2^k balances the largest negative input: |V| <= 2^k * (max|I| + 1). A
    non-spiking integrator is bounded the same way on both sides.
    """
    bound = 1
    for lay in layers:
        imax = int(lay.current_abs.max(initial=0))
        b = (2**lay.leak_shift) * (imax + 1)
        if lay.spiking:
            b = max(b, int(lay.threshold.max(initial=0)) + imax)
        bound = max(bound, b)
    return bound.bit_length() + 1


def ring_bits(layers: list[SnnLayer]) -> int:
    """Signed width of one delay-buffer slot: a slot sums each synapse at most once."""
    return int(max(int(lay.fan_in_abs.max(initial=0)) for lay in layers)).bit_length() + 1
