"""Every knob of the ReRAM crossbar model in one frozen dataclass, with units and sources.

Conventions (shared by every module of this package):
- A weight is a *differential pair* of devices (G+, G-) between `g_min_us` and `g_max_us`,
  each with `levels` equally spaced conductance levels, so a pair stores a signed integer
  digit d in [-(levels-1), levels-1]: G+ = g_min + max(d, 0)*dG, G- = g_min + max(-d, 0)*dG.
- The DAC is signed with `dac_bits` of resolution in aihwkit's convention (7 bits = codes
  -63..63, inp_res 1/126); the sign is the pulse polarity. 2 bits = bit-serial (-1, 0, +1).
- The ADC is signed with `adc_bits` (9 bits = codes -255..255, aihwkit out_res 1/510).
- Column outputs are measured in "integer units" (one level step dG times one DAC step), so
  an ideal crossbar returns the exact integer dot product of digits and codes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from codesign.errors import CodesignError

ADC_RANGES = ("max", "calibrated")


@dataclass(frozen=True)
class CrossbarConfig:
    """Crossbar, device and periphery parameters; defaults are literature values (see comments)."""

    # --- array -------------------------------------------------------------------------------
    tile_rows: int = 256  # rows (inputs) per tile; issue 9 default; aihwkit tiles go to 512
    tile_cols: int = 256  # weight columns per tile (each a G+/G- column pair)

    # --- device ------------------------------------------------------------------------------
    g_max_us: float = 25.0  # µS; aihwkit PCMLike / ReRamWan2022 g_max (REFERENCES.md)
    g_min_us: float = 0.0  # µS; aihwkit SinglePairConductanceConverter default g_min
    # conductance levels per device: 9 levels (3.17 bit/cell) in 1T1R HfO2 MLC ReRAM,
    # Esmanhotto et al., IEDM 2020 ("High-density 3D monolithically integrated multiple 1T1R
    # multi-level-cell for neural networks").
    levels: int = 9
    # programming noise: scale on aihwkit PCMLikeNoiseModel's sigma(g) = 0.26348 + 1.9650 g/gmax
    # - 1.1731 (g/gmax)^2 µS (Nandakumar et al., ICECS 2019); 0 switches it off.
    prog_noise: float = 1.0
    write_verify_iters: int = 0  # extra program-and-verify rounds (0 = single shot)
    write_verify_tol_us: float = 0.25  # µS; accept band of a verify round (~1 % of g_max)
    # device-to-device variation: relative sigma of each device's response (gain) to a
    # programming pulse; a fixed pattern that only write-verify can correct. 0 by default as
    # in aihwkit's inference noise models (they fold it into programming noise).
    d2d_sigma: float = 0.0
    # read noise: scale on aihwkit's 1/f model sigma_rel = min(0.0088/ghat^0.65, 0.2) *
    # sqrt(ln((t + t_r)/(2 t_r))), t_r = 250 ns; drawn fresh for every read (every MVM).
    read_noise: float = 1.0
    t_read_s: float = 250e-9  # s; aihwkit PCMLike t_read (also the read pulse width, energy)
    # drift G(t) = G(t0) * ((t + t0)/t0)^-nu; nu ~ aihwkit PCMLike fit (mean/std vs ghat);
    # `drift` scales nu (0 = off).
    drift: float = 1.0
    drift_t0_s: float = 20.0  # s; aihwkit PCMLike t_0
    t_inference_s: float = 3600.0  # s since programming (aihwkit examples use 1 h / 1 d / 1 y)
    drift_compensation: bool = True  # aihwkit default: GlobalDriftCompensation
    # stuck-at faults (device stuck at g_max / g_min). Chen et al., IEEE TC 2015 ("RRAM defect
    # modeling and failure analysis based on March test ...") measured 9.04 % stuck-at-LRS and
    # 1.75 % stuck-at-HRS before repair; defaults 0 = a repaired array; sweep to see the cost.
    p_stuck_on: float = 0.0
    p_stuck_off: float = 0.0
    # first-order IR drop: wire resistance per cell segment. aihwkit's IR-drop model uses
    # 0.35 Ohm per segment (ir_drop_g_ratio = 1/(0.35 Ohm * 5 µS)); off by default as in aihwkit.
    r_wire_ohm: float = 0.0

    # --- periphery ---------------------------------------------------------------------------
    dac_bits: int = 7  # aihwkit default inp_res 1/126 (7-bit signed)
    v_read: float = 0.2  # V; full-scale read voltage of the DAC
    adc_bits: int | None = 9  # aihwkit default out_res 1/510 (9-bit signed); None = lossless
    adc_range: str | float = "calibrated"  # "max" (worst case), "calibrated", or a float bound
    # in normalised units (|w|<=1, |x|<=1; aihwkit out_bound = 12)
    adc_share: int = 1  # columns per ADC (1 = one ADC per column; ISAAC shares 1 per 128)
    # ADC step rounded up to a power of two of the integer unit, so that the digital
    # shift-and-add of slices stays exact integer arithmetic (ISAAC-style periphery). Off for
    # aihwkit-style float tiles, whose step is out_bound / (2**(bits-1) - 1).
    adc_step_pow2: bool = True

    # --- mapping -----------------------------------------------------------------------------
    weight_slicing: bool = True  # split |w| into base-`levels` digits over several pairs
    input_slicing: bool = True  # split |x| into several DAC pulses (bit-serial if dac_bits=2)
    seed: int = 0

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> CodesignError:
            return CodesignError(f"reram parameter '{name}' {why} (got {getattr(self, name)!r})")

        for name in ("tile_rows", "tile_cols", "adc_share"):
            if int(getattr(self, name)) < 1:
                raise bad(name, "must be >= 1")
        if self.levels < 2:
            raise bad("levels", "must be >= 2")
        if not 2 <= self.dac_bits <= 16:
            raise bad("dac_bits", "must be in 2..16 (signed DAC, aihwkit convention)")
        if self.adc_bits is not None and not 2 <= self.adc_bits <= 32:
            raise bad("adc_bits", "must be in 2..32 or None (lossless)")
        if not 0.0 <= self.g_min_us < self.g_max_us:
            raise bad("g_min_us", "must satisfy 0 <= g_min_us < g_max_us")
        for name in ("prog_noise", "read_noise", "drift", "d2d_sigma", "r_wire_ohm"):
            if float(getattr(self, name)) < 0:
                raise bad(name, "must be >= 0")
        for name in ("p_stuck_on", "p_stuck_off"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise bad(name, "must be a probability in [0, 1]")
        if self.p_stuck_on + self.p_stuck_off > 1.0:
            raise bad("p_stuck_on", "plus p_stuck_off must be <= 1")
        if self.t_inference_s < 0 or self.drift_t0_s <= 0 or self.t_read_s <= 0:
            raise bad("t_inference_s", "and drift_t0_s/t_read_s must be >= 0 / > 0")
        if self.write_verify_iters < 0:
            raise bad("write_verify_iters", "must be >= 0")
        if isinstance(self.adc_range, str):
            if self.adc_range not in ADC_RANGES:
                raise bad("adc_range", f"must be one of {ADC_RANGES} or a positive float")
        elif not float(self.adc_range) > 0:
            raise bad("adc_range", "must be > 0 when given as a number")

    @property
    def dac_max(self) -> int:
        """Largest DAC code magnitude, 2**(dac_bits-1) - 1 (aihwkit: 1/inp_res / 2)."""
        return 2 ** (self.dac_bits - 1) - 1

    @property
    def dg_us(self) -> float:
        """Conductance step between two adjacent levels, µS."""
        return (self.g_max_us - self.g_min_us) / (self.levels - 1)

    def replace(self, **changes: object) -> CrossbarConfig:
        """A copy with some fields changed; unknown names are a CodesignError."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise CodesignError(f"unknown reram parameter '{key}' (known: {sorted(names)})")
        return dataclasses.replace(self, **changes)

    @classmethod
    def ideal(cls, **changes: object) -> CrossbarConfig:
        """Every non-ideality off and a lossless ADC: must reproduce the golden model exactly."""
        base = dict(
            prog_noise=0.0,
            read_noise=0.0,
            drift=0.0,
            d2d_sigma=0.0,
            p_stuck_on=0.0,
            p_stuck_off=0.0,
            r_wire_ohm=0.0,
            adc_bits=None,
            adc_range="max",
            write_verify_iters=0,
        )
        base.update(changes)
        return cls(**base)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def parse_value(name: str, text: str) -> object:
    """Parse a command-line value for field `name` to the field's type."""
    fields = {f.name: f for f in dataclasses.fields(CrossbarConfig)}
    if name not in fields:
        raise CodesignError(f"unknown reram parameter '{name}' (known: {sorted(fields)})")
    default = getattr(CrossbarConfig(), name)
    try:
        if name == "adc_bits":
            return None if text.lower() in ("none", "lossless") else int(text)
        if name == "adc_range":
            return text if text in ADC_RANGES else float(text)
        if isinstance(default, bool):
            if text.lower() not in ("0", "1", "true", "false", "on", "off"):
                raise ValueError(text)
            return text.lower() in ("1", "true", "on")
        if isinstance(default, int):
            return int(text)
        return float(text)
    except ValueError:
        raise CodesignError(f"reram parameter '{name}': cannot parse value '{text}'") from None
