"""Device physics of one resistive cell: programming (with write-verify), faults, drift, read noise.

All functions are vectorised over arrays of conductances in µS. Random numbers are drawn for
every device whether or not an effect is on, so two configurations that differ in one knob
see the same random numbers for the others (smooth sweeps, common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codesign.sim.reram.config import CrossbarConfig

# aihwkit PCMLikeNoiseModel (Nandakumar et al., ICECS 2019): programming-noise polynomial in µS,
# fitted at g_max = 25 µS, evaluated at g/g_max.
PROG_COEFF_US = (0.26348, 1.9650, -1.1731)
PROG_COEFF_GMAX_REF_US = 25.0
# aihwkit PCMLikeNoiseModel drift exponent fit: nu_mean = clip(-0.0155 ln ghat + 0.0244, .049, .1),
# nu_std = clip(-0.0125 ln ghat - 0.0059, 0.008, 0.045).
NU_MEAN = (-0.0155, 0.0244, 0.049, 0.1)
NU_STD = (-0.0125, -0.0059, 0.008, 0.045)
# aihwkit PCMLikeNoiseModel 1/f read noise: q_s = min(0.0088 / ghat^0.65, 0.2).
READ_Q = (0.0088, 0.65, 0.2)
_ZERO_CLIP = 1e-7  # aihwkit _ZERO_CLIP for ghat in the drift fit


def prog_sigma_us(g_target: np.ndarray, cfg: CrossbarConfig) -> np.ndarray:
    """Standard deviation (µS) of one programming shot aimed at `g_target`."""
    ghat = g_target / cfg.g_max_us
    c0, c1, c2 = PROG_COEFF_US
    sig = (c0 + c1 * ghat + c2 * ghat**2) * (cfg.g_max_us / PROG_COEFF_GMAX_REF_US)
    return cfg.prog_noise * np.maximum(sig, 0.0)


@dataclass
class Programmed:
    """Result of programming an array of devices."""

    g_us: np.ndarray  # conductance right after programming (t = t0), µS
    stuck_on: np.ndarray  # bool mask, device stuck at g_max
    stuck_off: np.ndarray  # bool mask, device stuck at g_min
    nu: np.ndarray  # drift exponent per device (0 for stuck devices)


def program(g_target: np.ndarray, cfg: CrossbarConfig, rng: np.random.Generator) -> Programmed:
    """Program devices from the reset state (g_min) towards `g_target` (µS).

    One shot: g = g_min + (g_target - g_min) * gain + sigma_prog(g_target) * N, where
    gain = 1 + d2d_sigma * N is the device's own (fixed) response. Each write-verify round
    re-pulses devices outside +-write_verify_tol_us: g += (g_target - g) * gain + sigma * N.
    Then stuck-at faults override the value (verify cannot fix them), and each device gets a
    drift exponent from aihwkit's PCM fit.
    """
    g_target = np.asarray(g_target, dtype=np.float64)
    shape = g_target.shape
    gain = 1.0 + cfg.d2d_sigma * rng.standard_normal(shape)
    sig = prog_sigma_us(g_target, cfg)
    g = cfg.g_min_us + (g_target - cfg.g_min_us) * gain + sig * rng.standard_normal(shape)
    for _ in range(cfg.write_verify_iters):
        noise = rng.standard_normal(shape)
        bad = np.abs(g - g_target) > cfg.write_verify_tol_us
        g = np.where(bad, g + (g_target - g) * gain + sig * noise, g)
    g = np.maximum(g, 0.0)  # no negative conductance (aihwkit clamps at 0 too)
    u = rng.random(shape)
    stuck_on = u < cfg.p_stuck_on
    stuck_off = (u >= cfg.p_stuck_on) & (u < cfg.p_stuck_on + cfg.p_stuck_off)
    g = np.where(stuck_on, cfg.g_max_us, np.where(stuck_off, cfg.g_min_us, g))
    nu = drift_nu(g_target, cfg, rng)
    nu = np.where(stuck_on | stuck_off, 0.0, nu)
    return Programmed(g_us=g, stuck_on=stuck_on, stuck_off=stuck_off, nu=nu)


def drift_nu(g_target: np.ndarray, cfg: CrossbarConfig, rng: np.random.Generator) -> np.ndarray:
    """Drift exponent per device, |N(nu_mean(ghat), nu_std(ghat))| * cfg.drift (aihwkit fit)."""
    ghat = np.maximum(np.abs(g_target) / cfg.g_max_us, _ZERO_CLIP)
    a, b, lo, hi = NU_MEAN
    mu = np.clip(a * np.log(ghat) + b, lo, hi)
    a, b, lo, hi = NU_STD
    sd = np.clip(a * np.log(ghat) + b, lo, hi)
    return np.abs(mu + sd * rng.standard_normal(ghat.shape)) * cfg.drift


def drift_factor(nu: np.ndarray, cfg: CrossbarConfig) -> np.ndarray:
    """G(t)/G(t0) = ((t_inference + t0)/t0)^-nu, the power law of aihwkit's PCM model."""
    t = cfg.t_inference_s + cfg.drift_t0_s
    return np.power(t / cfg.drift_t0_s, -nu)


def read_sigma_us(g_us: np.ndarray, cfg: CrossbarConfig) -> np.ndarray:
    """Std (µS) of the read noise of one read at t_inference (aihwkit 1/f model, scaled)."""
    q, expo, cap = READ_Q
    ghat = np.maximum(np.abs(g_us) / cfg.g_max_us, 1e-3)
    q_s = np.minimum(q / ghat**expo, cap)
    t = cfg.t_inference_s + cfg.drift_t0_s
    spread = np.sqrt(np.log((t + cfg.t_read_s) / (2 * cfg.t_read_s)))
    return cfg.read_noise * q_s * spread * np.abs(g_us)


def program_stochastic(
    shape: tuple[int, ...],
    cfg: CrossbarConfig,
    rng: np.random.Generator,
    g_mean_us: float,
    g_sigma_us: float,
) -> tuple[np.ndarray, Programmed]:
    """One identical SET pulse on every device: random conductances, no verify.

    The resistive-memory LSM (arXiv 2307.00771) takes its random reservoir weights from this
    switching stochasticity. Modelled as N(g_mean, g_sigma) clipped to [g_min, g_max], then
    the same stuck-at faults and drift exponents as `program`. Returns (nominal target, state).
    """
    target = np.full(shape, float(g_mean_us))
    g = np.clip(g_mean_us + g_sigma_us * rng.standard_normal(shape), cfg.g_min_us, cfg.g_max_us)
    u = rng.random(shape)
    stuck_on = u < cfg.p_stuck_on
    stuck_off = (u >= cfg.p_stuck_on) & (u < cfg.p_stuck_on + cfg.p_stuck_off)
    g = np.where(stuck_on, cfg.g_max_us, np.where(stuck_off, cfg.g_min_us, g))
    nu = np.where(stuck_on | stuck_off, 0.0, drift_nu(g, cfg, rng))
    return target, Programmed(g_us=g, stuck_on=stuck_on, stuck_off=stuck_off, nu=nu)
