"""One crossbar tile: signed integer digits stored as G+/G- device pairs, read through DAC/ADC.

Units: inputs are DAC codes (integers, |code| <= dac_max), outputs are "integer units"
(one conductance level step times one DAC step), so with every non-ideality off a tile
returns exactly codes @ digits. Physically a code c drives v_read * c / dac_max volts and the
differential column current is I = sum_i V_i (G+_ij - G-_ij).

Read noise is drawn fresh for every read without sampling one value per device per read:
for independent Gaussian device noise the column error is Gaussian with variance
sum_i V_i^2 (s+_ij^2 + s-_ij^2), i.e. one extra matrix product (exact in distribution).
The normals come from `NormalPool` (Box-Muller on 24-bit uniforms, see there). Large noisy
reads run the signal product on a worker thread next to the noise (`PARALLEL_MIN_BATCH`).

Precision of that variance product: float32 (exact products of integer codes, float32 sums).
Opt-in speed path (CODESIGN_RERAM_BF16=1 before import): reads through an ADC of at least
`BF16_MIN_BATCH` input vectors at once on a CPU with native bfloat16 arithmetic
(avx512_bf16 / amx_bf16) run that product in bfloat16 with
float32 accumulation: V_i^2, the variances and the per-column result are each rounded to 8
significant bits, so the read-noise standard deviation of a column is off by a relative
error below 2^-8 (0.4 %; typically ~1e-3), far below the spread of the aihwkit noise fit it
models. The signal product x @ (G+ - G-) is always float32/float64, and the ideal crossbar
(no ADC, no noise) never takes that path: it stays exactly equal to the golden model.
It is off by default because a seed must give the same noise on every machine, and the path
depends on the CPU; CODESIGN_RERAM_NO_BF16=1 or `BF16_MIN_BATCH = None` force it off.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from codesign.errors import CodesignError
from codesign.sim.reram import device
from codesign.sim.reram.config import CrossbarConfig

_EXACT_F32 = 2**24  # integers below this add exactly in float32
# reads of at least this many input vectors through an ADC compute the read-noise variance in
# bfloat16 (when the CPU does bf16 natively); None switches the bf16 path off
BF16_MIN_BATCH: int | None = 128
# noisy reads of at least this many input vectors through an ADC compute the signal product on
# a worker thread while the calling thread computes the read noise, both with one BLAS thread
# (the same operations as one thread, so the same result; OpenBLAS's own two threads gain less
# on this shape). None, or CODESIGN_RERAM_SERIAL=1, keeps every read on the calling thread.
PARALLEL_MIN_BATCH: int | None = None if os.environ.get("CODESIGN_RERAM_SERIAL") else 64
# 0-d float32 arrays: numpy's fastest form of a scalar operand
_U24 = np.array(2.0**-24, dtype=np.float32)
_TWO_PI_U24 = np.array(2.0 * math.pi * 2.0**-24, dtype=np.float32)
_ONE = np.array(1.0, dtype=np.float32)
_MINUS_TWO = np.array(-2.0, dtype=np.float32)


def _cpu_has_bf16() -> bool:
    """True if torch's oneDNN can run bfloat16 matrix products natively on this CPU."""
    if os.environ.get("CODESIGN_RERAM_NO_BF16") or not os.environ.get("CODESIGN_RERAM_BF16"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


FAST_BF16 = _cpu_has_bf16()


def _clip(a: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """In-place clip: np.clip is one vectorised pass on big arrays; on small ones its Python
    wrapper costs more than minimum + maximum."""
    if a.size >= 1024:
        np.clip(a, lo, hi, out=a)
    else:
        np.minimum(a, hi, out=a)
        np.maximum(a, lo, out=a)


_parallel_state: tuple[int, ThreadPoolExecutor, object] | None = None


def _parallel() -> tuple[ThreadPoolExecutor, object] | None:
    """(worker, numpy's BLAS thread controller or None) for this process (a forked child makes
    its own worker), or None on one CPU."""
    global _parallel_state
    if (os.cpu_count() or 1) < 2:
        return None
    pid = os.getpid()
    if _parallel_state is None or _parallel_state[0] != pid:
        from threadpoolctl import ThreadpoolController

        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        worker = ThreadPoolExecutor(1, thread_name_prefix="reram-signal")
        _parallel_state = (pid, worker, blas[0] if len(blas) == 1 else None)
    return _parallel_state[1], _parallel_state[2]


class NormalPool:
    """Standard normals drawn in blocks (cheap per read), seeded from a numpy generator.

    Box-Muller on numpy's SFC64 bit stream: each 64-bit word gives two 24-bit uniforms
    u1 in (0, 1] (grid 2^-24) and theta in [0, 2 pi), and z = sqrt(-2 ln u1) (cos, sin)(theta)
    gives two independent N(0, 1) in float32. Exact Gaussian up to the 24-bit grid: |z| is
    capped at sqrt(48 ln 2) = 5.77 (P(|N(0,1)| > 5.77) = 8e-9), as with torch.randn, the
    previous generator. About 1.5x cheaper per normal than torch.randn on this machine (its
    mt19937 draws one uniform at a time), which matters because a batch-256 read of a
    256-column tile needs 65 k fresh normals. The stream depends only on the seed and on the
    sequence of sizes taken, so seeded runs reproduce.
    """

    def __init__(self, rng: np.random.Generator, size: int = 1 << 17) -> None:
        self.bitgen = np.random.SFC64(int(rng.integers(0, 2**62)))
        self.size = size + (size & 1)
        self.buf: np.ndarray | None = None  # filled on first use
        self.pos = self.size

    def fill(self, out: np.ndarray) -> None:
        """Fill a float32 1-D array of even length with fresh standard normals."""
        h = out.size // 2
        u = self.bitgen.random_raw(h).view(np.uint32)  # 2h independent 32-bit words
        a, b = u[:h], u[h:]
        r, c, s = out[:h], out[h:], np.empty(h, dtype=np.float32)
        np.right_shift(a, 8, out=a)  # 24-bit integers: exact in int32 and in float32
        np.copyto(r, a.view(np.int32), casting="unsafe")
        np.multiply(r, _U24, out=r)  # [0, 1 - 2^-24]
        np.subtract(_ONE, r, out=r)  # u1 in [2^-24, 1]
        np.log(r, out=r)
        np.multiply(r, _MINUS_TWO, out=r)
        np.sqrt(r, out=r)
        np.right_shift(b, 8, out=b)
        np.copyto(s, b.view(np.int32), casting="unsafe")
        np.multiply(s, _TWO_PI_U24, out=s)  # theta in [0, 2 pi)
        np.sin(s, out=c)
        np.cos(s, out=s)
        np.multiply(c, r, out=c)
        np.multiply(r, s, out=r)

    def _refill(self) -> None:
        if self.buf is None:
            self.buf = np.empty(self.size, dtype=np.float32)
        self.fill(self.buf)
        self.pos = 0

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        """The next prod(shape) normals of the stream (a view into the pool when it fits)."""
        return self.take_flat(math.prod(shape)).reshape(shape)

    def take_flat(self, n: int) -> np.ndarray:
        """The next n normals of the stream as a 1-D array."""
        if n > self.size:
            out = np.empty(n + (n & 1), dtype=np.float32)
            self.fill(out)
            return out[:n]
        pos = self.pos
        if pos + n > self.size:
            self._refill()
            pos = 0
        self.pos = pos + n
        return self.buf[pos : pos + n]


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
            self._qpos = np.array(q, dtype=self.dtype)  # 0-d: cheaper than a Python scalar
            self._qneg = np.array(-q, dtype=self.dtype)
            self._inv_step = (q / self.bound).astype(self.dtype)
        self.gsum_rows = self.g_us.sum(axis=(0, 2))  # µS per row, both arrays (energy)
        cols_aug = [self.var] if self.var is not None else []
        self._aug = np.concatenate(cols_aug + [self.gsum_rows[:, None]], axis=1).astype(self.dtype)
        self._var_bf16 = None
        if self._bits is not None:  # weights and noise variance pre-scaled to ADC steps
            self._w_adc = np.ascontiguousarray(self.w_eff * self._inv_step, dtype=self.dtype)
            inv2 = np.append(self._inv_step.astype(np.float64) ** 2, 1.0)
            # [variance | row conductance]: one product gives both for small batches
            self._aug_adc = np.ascontiguousarray(self._aug * inv2, dtype=self.dtype)
            self._gsum = self.gsum_rows.astype(self.dtype)
            if self.var is not None and FAST_BF16 and self.dtype == np.float32:
                self._var_bf16 = torch.from_numpy(self._aug_adc[:, :-1].copy()).to(torch.bfloat16)
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
        else:
            x = np.asarray(codes, dtype=self.dtype)
            if x.shape[0] == 1:  # matrix-vector products: cheaper than one-row GEMMs
                return self._adc(self._read1(x[0])).reshape(1, self.cols)
            y = self._read(x)
        return self._adc(y)

    def _read(self, x: np.ndarray) -> np.ndarray:
        """Column outputs in ADC steps before rounding, read noise included, for codes x of
        shape (batch, rows) (weights and variances are pre-scaled to ADC steps)."""
        self.n_reads += x.shape[0]
        if self.var is None:
            self._e_units += float(np.dot(x * x, self._gsum).sum(dtype=np.float64))
            return np.dot(x, self._w_adc)
        par = PARALLEL_MIN_BATCH
        two = _parallel() if par is not None and x.shape[0] >= par else None
        if two is None:
            y = np.dot(x, self._w_adc)
            s = self._noise_std(x * x)
            np.multiply(s, self.pool.take(s.shape), out=s)
        else:  # numpy's BLAS releases the GIL: signal and noise products run at once
            worker, blas = two
            threads = blas.get_num_threads() if blas is not None else 1
            if threads != 1:
                blas.set_num_threads(1)
            try:
                job = worker.submit(np.dot, x, self._w_adc)
                s = self._noise_std(x * x)
                np.multiply(s, self.pool.take(s.shape), out=s)
                y = job.result()
            finally:
                if threads != 1:
                    blas.set_num_threads(threads)
        np.add(y, s, out=y)
        return y

    def _read1(self, x: np.ndarray) -> np.ndarray:
        """`_read` for one input vector x (rows,): matrix-vector products, fewest numpy calls
        (the same random stream as `_read` on a batch of one)."""
        y = np.dot(x, self._w_adc)
        x2 = x * x
        self.n_reads += 1
        if self.var is None:
            self._e_units += float(np.dot(x2, self._gsum))
            return y
        z = np.dot(x2, self._aug_adc)  # variance and row conductance in one product
        self._e_units += float(z[-1])
        s = z[:-1]
        np.sqrt(s, out=s)
        np.multiply(s, self.pool.take_flat(self.cols), out=s)
        np.add(y, s, out=y)
        return y

    def _noise_std(self, x2: np.ndarray) -> np.ndarray:
        """Read-noise std per output in ADC steps (batch, cols) from squared codes x2
        (batch, rows); adds the reads' array energy to the counters."""
        bf16_min = BF16_MIN_BATCH
        if self._var_bf16 is not None and bf16_min is not None and x2.shape[0] >= bf16_min:
            # bfloat16 product, float32 accumulation (module docstring: error < 2^-8)
            self._e_units += float(np.dot(x2, self._gsum).sum(dtype=np.float64))
            # one torch thread: with its OpenMP pool and numpy's BLAS threads (2 + 2 on two
            # cores) competing, this path ran up to 10x slower; _read pins BLAS to one thread
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                zb = torch.mm(torch.from_numpy(x2).to(torch.bfloat16), self._var_bf16)
                s = zb.to(torch.float32).numpy()
            finally:
                torch.set_num_threads(threads)
        else:  # variance and row conductance in one float32 product
            z = np.dot(x2, self._aug_adc)
            self._e_units += float(z[:, -1].sum(dtype=np.float64))
            s = z[:, :-1]
        return np.sqrt(s, out=s)

    def _adc(self, y: np.ndarray) -> np.ndarray:
        """Round to ADC codes, saturate, and scale codes to output units (in place)."""
        np.rint(y, out=y)
        _clip(y, self._qneg, self._qpos)
        np.multiply(y, self._step_out, out=y)
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
        dt = self.tile.dtype
        self._m, self._mneg = np.array(cfg.dac_max, dtype=dt), np.array(-cfg.dac_max, dtype=dt)
        self.out_scale = self.wscale / (lmax * cfg.dac_max)
        self.tile.set_output_scale(self.out_scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        codes = np.asarray(x, dtype=self.tile.dtype) * self._m
        np.rint(codes, out=codes)
        _clip(codes, self._mneg, self._m)
        return self.tile.mvm(codes)
