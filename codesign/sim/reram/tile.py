"""One crossbar tile: signed integer digits stored as G+/G- device pairs, read through DAC/ADC.

Units: inputs are DAC codes (integers, |code| <= dac_max), outputs are "integer units"
(one conductance level step times one DAC step), so with every non-ideality off a tile
returns exactly codes @ digits. Physically a code c drives v_read * c / dac_max volts and the
differential column current is I = sum_i V_i (G+_ij - G-_ij).

Read noise is drawn fresh for every read without sampling one value per device per read:
for independent Gaussian device noise the column error is Gaussian with variance
sum_i V_i^2 (s+_ij^2 + s-_ij^2), i.e. one extra matrix product (exact in distribution).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from codesign.errors import CodesignError
from codesign.sim.reram import device
from codesign.sim.reram.config import CrossbarConfig

_EXACT_F32 = 2**24  # integers below this add exactly in float32
_FUSE_BATCH = 4  # up to this batch the two products of a read share one pass over the matrix


class NormalPool:
    """Standard normals drawn in large blocks (cheap per read), seeded from a numpy generator.

    torch's CPU generator fills normals ~2.5x faster than numpy's, which matters because a
    batch-256 read of a 256-column tile needs 65 k fresh normals.
    """

    def __init__(self, rng: np.random.Generator, size: int = 1 << 18) -> None:
        self.gen = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
        self.size = size
        self._buf = torch.empty(size, dtype=torch.float32)
        self.buf = self._buf.numpy()  # shares memory with the torch buffer
        self._refill()

    def _refill(self) -> None:
        torch.randn(self.size, generator=self.gen, out=self._buf)
        self.pos = 0

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        n = math.prod(shape)
        if n > self.size:
            return torch.randn(n, generator=self.gen).numpy().reshape(shape)
        if self.pos + n > self.size:
            self._refill()
        out = self.buf[self.pos : self.pos + n].reshape(shape)
        self.pos += n
        return out


class Tile:
    """A programmed rows x cols tile (weights fixed at construction, time = t_inference)."""

    def __init__(
        self,
        digits: np.ndarray,
        cfg: CrossbarConfig,
        rng: np.random.Generator,
        adc_bound: np.ndarray | float | None = None,
        name: str = "tile",
    ) -> None:
        digits = np.asarray(digits)
        rows, cols = digits.shape
        if rows > cfg.tile_rows or cols > cfg.tile_cols:
            raise CodesignError(
                f"{name}: block {rows}x{cols} exceeds tile size {cfg.tile_rows}x{cfg.tile_cols}"
            )
        lmax = cfg.levels - 1
        if digits.size and np.abs(digits).max() > lmax:
            raise CodesignError(f"{name}: digit magnitude above levels-1 = {lmax}")
        dg = cfg.dg_us
        target = np.stack(
            [cfg.g_min_us + np.maximum(digits, 0) * dg, cfg.g_min_us + np.maximum(-digits, 0) * dg]
        )
        self._finish(target, device.program(target, cfg, rng), cfg, rng, adc_bound, name)

    @classmethod
    def from_programmed(
        cls,
        target_us: np.ndarray,
        prog: device.Programmed,
        cfg: CrossbarConfig,
        rng: np.random.Generator,
        adc_bound: np.ndarray | float | None = None,
        name: str = "tile",
    ) -> Tile:
        """A tile whose (2, rows, cols) conductances were set by another procedure, e.g. the
        stochastic programming of the LSM reservoir."""
        tile = cls.__new__(cls)
        tile._finish(target_us, prog, cfg, rng, adc_bound, name)
        return tile

    def _finish(
        self,
        target: np.ndarray,
        prog: device.Programmed,
        cfg: CrossbarConfig,
        rng: np.random.Generator,
        adc_bound: np.ndarray | float | None,
        name: str,
    ) -> None:
        _, rows, cols = target.shape
        lmax = cfg.levels - 1
        dg = cfg.dg_us
        self.cfg, self.name, self.rows, self.cols = cfg, name, rows, cols
        self.target_us = target
        self.g0_us = prog.g_us  # right after programming
        self.stuck_on, self.stuck_off = prog.stuck_on, prog.stuck_off
        self.g_us = prog.g_us * device.drift_factor(prog.nu, cfg)  # at t_inference
        worst = rows * lmax * cfg.dac_max
        self.dtype = np.float32 if worst < _EXACT_F32 else np.float64
        self.w_eff = ((self.g_us[0] - self.g_us[1]) / dg).astype(self.dtype)
        sig = device.read_sigma_us(self.g_us, cfg) / dg
        var = sig[0] ** 2 + sig[1] ** 2
        self.var = var.astype(self.dtype) if cfg.read_noise > 0 and var.any() else None
        self.pool = NormalPool(rng)
        # digital global drift compensation (aihwkit GlobalDriftCompensation): a reference
        # read with all-ones input right after programming and at t_inference.
        self.alpha = 1.0
        if cfg.drift_compensation:
            ref0 = np.abs((self.g0_us[0] - self.g0_us[1]).sum(axis=0)).sum()
            ref_t = np.abs((self.g_us[0] - self.g_us[1]).sum(axis=0)).sum()
            if ref_t > 0 and ref0 > 0:
                self.alpha = float(ref0 / ref_t)
        self.bound = self._bound(adc_bound, worst)
        self._bits = cfg.adc_bits
        if self._bits is not None:
            q = 2 ** (self._bits - 1) - 1
            self._q = float(q)
            self._inv_step = (q / self.bound).astype(self.dtype)
        self.gsum_rows = self.g_us.sum(axis=(0, 2))  # µS per row, both arrays (energy)
        cols_aug = [self.var] if self.var is not None else []
        self._aug = np.concatenate(cols_aug + [self.gsum_rows[:, None]], axis=1).astype(self.dtype)
        if self._bits is not None:
            self._w_adc = (self.w_eff * self._inv_step).astype(self.dtype)
            inv2 = np.append(self._inv_step.astype(np.float64) ** 2, 1.0)
            self._aug_adc = (self._aug * inv2).astype(self.dtype)
            self._fused = np.ascontiguousarray(np.concatenate([self._w_adc, self._aug_adc], axis=1))
        self.set_output_scale(1.0)
        self._ir = cfg.r_wire_ohm > 0
        self.n_reads = 0  # input vectors applied (pulses)
        self._e_units = 0.0  # sum over reads of sum_i code_i^2 * G_row_i (µS)

    def _bound(self, adc_bound: np.ndarray | float | None, worst: int) -> np.ndarray:
        cfg = self.cfg
        if adc_bound is None:
            if isinstance(cfg.adc_range, str):  # "max" (or "calibrated" with no data)
                adc_bound = float(worst)
            else:
                adc_bound = float(cfg.adc_range) * (cfg.levels - 1) * cfg.dac_max
        bound = np.broadcast_to(np.asarray(adc_bound, dtype=np.float64), (self.cols,)).copy()
        bound = np.maximum(bound, 1.0)
        share = cfg.adc_share
        if share > 1:  # columns sharing one ADC share its range
            for s in range(0, self.cols, share):
                bound[s : s + share] = bound[s : s + share].max()
        if cfg.adc_bits is not None and cfg.adc_step_pow2:
            q = 2 ** (cfg.adc_bits - 1) - 1
            step = np.exp2(np.maximum(np.ceil(np.log2(bound / q)), 0.0))
            bound = step * q
        return bound

    def analog(self, codes: np.ndarray) -> np.ndarray:
        """Column outputs before the ADC, in integer units (batch, cols)."""
        x = np.asarray(codes, dtype=self.dtype)
        if self._ir:
            y = self._ir_drop_read(x)
        else:
            y = x @ self.w_eff
        # one product gives the read-noise variance per column and the read energy per input
        z = (x * x) @ self._aug
        self._account(z, x.shape[0])
        if self.var is not None:
            y += np.sqrt(z[:, :-1]) * self.pool.take(y.shape)
        return y

    def mvm(self, codes: np.ndarray) -> np.ndarray:
        """One read per row of `codes` (batch, rows): ADC output (batch, cols), integer units
        (times `out_scale`)."""
        if self._bits is None:
            y = np.rint(self.analog(codes))
            f = self.alpha * self.out_scale
            return y * f if f != 1.0 else y
        if self._ir:
            y = self.analog(codes) * self._inv_step
        elif codes.shape[0] <= _FUSE_BATCH:  # small batch: one product reads the matrix once
            b = codes.shape[0]
            xx = np.empty((2 * b, self.rows), dtype=self.dtype)
            xx[:b] = codes
            np.multiply(xx[:b], xx[:b], out=xx[b:])
            r = xx @ self._fused
            y, z = r[:b, : self.cols], r[b:, self.cols :]
            self._account(z, b)
            if self.var is not None:
                y += np.sqrt(z[:, :-1]) * self.pool.take(y.shape)
        else:  # weights and noise variance pre-scaled to ADC steps
            x = np.asarray(codes, dtype=self.dtype)
            y = x @ self._w_adc
            z = (x * x) @ self._aug_adc
            self._account(z, x.shape[0])
            if self.var is not None:
                y += np.sqrt(z[:, :-1]) * self.pool.take(y.shape)
        np.rint(y, out=y)
        np.minimum(y, self._q, out=y)
        np.maximum(y, -self._q, out=y)
        y *= self._step_out
        return y

    def _account(self, z: np.ndarray, b: int) -> None:
        self.n_reads += b
        self._e_units += float(z[0, -1]) if b == 1 else float(z[:, -1].sum(dtype=np.float64))

    def set_output_scale(self, scale: float) -> None:
        """Fold a digital output scale into the ADC's code-to-value multiplier."""
        self.out_scale = float(scale)
        if self._bits is not None:
            q = 2 ** (self._bits - 1) - 1
            self._step_out = (self.bound / q * self.alpha * self.out_scale).astype(self.dtype)

    @property
    def e_array_j(self) -> float:
        """Crossbar read energy so far: sum over reads of sum_ij G_ij V_i^2 t_read (J)."""
        v2 = (self.cfg.v_read / self.cfg.dac_max) ** 2
        return self._e_units * v2 * 1e-6 * self.cfg.t_read_s

    def reset_counters(self) -> None:
        self.n_reads = 0
        self._e_units = 0.0

    def _ir_drop_read(self, x: np.ndarray) -> np.ndarray:
        """First-order IR drop: cell currents with ideal voltages give the wire currents, whose
        drops (driver at column 0, sense amplifier below the last row) lower each cell's
        voltage once. Separate wires for the G+ and G- arrays."""
        cfg = self.cfg
        volts = x.astype(np.float64) * (cfg.v_read / cfg.dac_max)  # (B, rows)
        r = cfg.r_wire_ohm * 1e-6  # Ohm * µA -> V
        out = []
        for g in self.g_us:  # (rows, cols) µS
            cur = volts[:, :, None] * g[None]  # µA (B, rows, cols)
            # row wire: segment before column j carries sum_{m>=j} I_im
            seg = np.cumsum(cur[:, :, ::-1], axis=2)[:, :, ::-1]
            dv_row = r * np.cumsum(seg, axis=2)
            # column wire: segment below row i carries sum_{m<=i} I_mj; node i sees the drop
            # of every segment from i to the bottom
            seg = np.cumsum(cur, axis=1)
            dv_col = r * np.cumsum(seg[:, ::-1, :], axis=1)[:, ::-1, :]
            out.append(((volts[:, :, None] - dv_row - dv_col) * g[None]).sum(axis=1))
        i_diff = out[0] - out[1]  # µA
        return (i_diff / (cfg.dg_us * cfg.v_read / cfg.dac_max)).astype(self.dtype)

    @property
    def n_devices(self) -> int:
        return 2 * self.rows * self.cols


class FloatTile:
    """aihwkit-style front end for one tile: float weights W (rows, cols) and inputs in [-1, 1].

    W is scaled by max|W| onto the device levels (one pair per weight, no slicing); x goes
    through the DAC (codes = rint(x * dac_max)); y = x @ W is returned in W's units. With a
    float `adc_range` the ADC full scale is that bound in normalised units (aihwkit out_bound).
    """

    def __init__(self, w: np.ndarray, cfg: CrossbarConfig, seed: int | None = None) -> None:
        w = np.asarray(w, dtype=np.float64)
        cfg = cfg.replace(adc_step_pow2=False)
        lmax = cfg.levels - 1
        self.wscale = float(np.abs(w).max()) or 1.0
        digits = np.rint(w / self.wscale * lmax).astype(np.int64)
        rng = np.random.default_rng(cfg.seed if seed is None else seed)
        self.tile = Tile(digits, cfg, rng)
        self.dac_max = cfg.dac_max
        self.out_scale = self.wscale / (lmax * cfg.dac_max)
        self.tile.set_output_scale(self.out_scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        m = self.dac_max
        codes = np.asarray(x, dtype=self.tile.dtype) * m
        np.rint(codes, out=codes)
        np.minimum(codes, m, out=codes)
        np.maximum(codes, -m, out=codes)
        return self.tile.mvm(codes)
