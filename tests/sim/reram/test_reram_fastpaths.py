"""The fast read paths keep the documented statistics: Box-Muller normals, bf16 noise variance,
batch-1 matrix-vector path, seeds."""

import numpy as np
import pytest
from scipy import stats

from codesign.sim.reram import device
from codesign.sim.reram import tile as tile_mod
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.tile import FloatTile, NormalPool, Tile


def _z_ok(observed, expected, sd, k=5.0):
    return abs(observed - expected) <= k * sd


def _bench_cfg(**changes):
    base = dict(dac_bits=7, adc_bits=9, adc_range=12.0, levels=256, t_inference_s=3600.0)
    base.update(changes)
    return CrossbarConfig(**base)


def test_normal_pool_is_standard_normal():
    pool = NormalPool(np.random.default_rng(0), size=1 << 16)
    sizes = (1, 7, 256, 4096, 65536, 70001)  # odd sizes, refills, and n > pool size
    z = np.concatenate([pool.take((n,)).astype(np.float64) for n in sizes * 8])
    n = z.size
    assert _z_ok(z.mean(), 0.0, 1 / np.sqrt(n))
    assert _z_ok(z.var(), 1.0, np.sqrt(2 / n))
    assert _z_ok(stats.skew(z), 0.0, np.sqrt(6 / n))
    assert _z_ok(stats.kurtosis(z), 0.0, np.sqrt(24 / n))
    for k in (2.0, 3.0, 4.0):  # tails
        p = 2 * stats.norm.sf(k)
        assert _z_ok(np.mean(np.abs(z) > k), p, np.sqrt(p * (1 - p) / n))
    assert np.abs(z).max() <= np.sqrt(48 * np.log(2))  # 24-bit uniforms: documented cap
    assert stats.kstest(z, "norm").pvalue > 1e-6


def test_box_muller_partners_are_independent():
    """The cos and sin normals of one pair share a radius: they, their squares and neighbours
    must still be uncorrelated."""
    pool = NormalPool(np.random.default_rng(1))
    buf = np.empty(1 << 21, dtype=np.float32)
    pool.fill(buf)
    h = buf.size // 2
    a, b = buf[:h].astype(np.float64), buf[h:].astype(np.float64)
    sd = 1 / np.sqrt(h)
    assert _z_ok(np.corrcoef(a, b)[0, 1], 0.0, sd)
    assert _z_ok(np.corrcoef(a * a, b * b)[0, 1], 0.0, sd)
    assert _z_ok(np.corrcoef(a[:-1], a[1:])[0, 1], 0.0, sd)


def test_normal_pool_seeds_reproduce_and_differ():
    def draws(seed):
        pool = NormalPool(np.random.default_rng(seed), size=1 << 12)
        return np.concatenate([pool.take((n,)).copy() for n in (3, 4000, 300, 5000, 256)])

    assert np.array_equal(draws(2), draws(2))
    assert not np.array_equal(draws(2), draws(3))


@pytest.fixture
def bf16_on(monkeypatch):
    """Build tiles with the bfloat16 variance matrix whatever the CPU (oneDNN emulates bf16
    where it has no native support), used from batch 64 on."""
    monkeypatch.setattr(tile_mod, "FAST_BF16", True)
    monkeypatch.setattr(tile_mod, "BF16_MIN_BATCH", 64)


def test_bf16_variance_within_the_documented_error(bf16_on, monkeypatch):
    rng = np.random.default_rng(4)
    tile = FloatTile(rng.uniform(-1, 1, (256, 256)), _bench_cfg(), seed=0).tile
    assert tile._var_bf16 is not None
    codes = np.rint(rng.uniform(-63, 63, (512, 256))).astype(np.float32)
    x2 = codes * codes
    v = tile.var.astype(np.float64) * tile._inv_step.astype(np.float64) ** 2
    exact = np.sqrt(x2.astype(np.float64) @ v)
    s16 = tile._noise_std(x2).astype(np.float64)
    e16 = tile._e_units
    monkeypatch.setattr(tile_mod, "BF16_MIN_BATCH", None)
    tile.reset_counters()
    s32 = tile._noise_std(x2).astype(np.float64)
    assert np.abs(s32 / exact - 1).max() < 1e-5  # float32 path
    assert np.abs(s16 / exact - 1).max() < 2**-8  # bf16 path: module docstring bound
    assert tile._e_units == pytest.approx(e16, rel=1e-6)  # energy stays float32-exact


def test_bf16_path_read_noise_statistics(bf16_on):
    """Large-batch reads through a fine ADC: noise std per column as documented."""
    cfg = CrossbarConfig.ideal(read_noise=1.0, adc_bits=16, adc_range="max", adc_step_pow2=False)
    digits = np.random.default_rng(11).integers(-8, 9, size=(64, 8))
    codes = np.random.default_rng(12).integers(-63, 64, size=(1, 64)).astype(np.float32)
    tile = Tile(digits, cfg, np.random.default_rng(13))
    assert tile._var_bf16 is not None
    sig = device.read_sigma_us(tile.g_us, cfg) / cfg.dg_us
    expect = np.sqrt((codes[0, :, None] ** 2 * (sig[0] ** 2 + sig[1] ** 2)).sum(axis=0))
    n = 20_000
    out = tile.mvm(np.repeat(codes, n, axis=0))
    ideal = (codes @ digits)[0]
    np.testing.assert_allclose(out.std(axis=0), expect, rtol=5 / np.sqrt(2 * n) + 2**-8)
    np.testing.assert_allclose(out.mean(axis=0), ideal, atol=6 * expect.max() / np.sqrt(n))


@pytest.mark.parametrize("batch", [1, 3, 200])  # matrix-vector, float32 GEMM, bf16 GEMM
def test_seeded_float_tiles_reproduce_on_every_path(bf16_on, batch):
    rng = np.random.default_rng(7)
    w = rng.uniform(-1, 1, (256, 256))
    x = rng.uniform(-1, 1, (batch, 256))
    cfg = _bench_cfg()

    def run(seed):
        ft = FloatTile(w, cfg, seed=seed)
        return np.concatenate([ft(x) for _ in range(3)])

    a = run(5)
    assert np.array_equal(a, run(5))
    assert not np.array_equal(a, run(6))


def test_energy_and_read_counts_agree_across_paths(bf16_on):
    rng = np.random.default_rng(8)
    digits = rng.integers(-255, 256, (256, 256))
    codes = np.rint(rng.uniform(-63, 63, (100, 256)))
    energies, reads = [], []
    for chunks in (
        [codes[i : i + 1] for i in range(100)],  # batch 1
        [codes[:30], codes[30:]],  # float32 GEMM, then bf16 GEMM (>= 64)
    ):
        tile = Tile(digits, _bench_cfg(), np.random.default_rng(9))
        for c in chunks:
            tile.mvm(c)
        energies.append(tile.e_array_j)
        reads.append(tile.n_reads)
    assert reads == [100, 100]
    assert energies[1] == pytest.approx(energies[0], rel=1e-6)


def test_ideal_adc_path_without_noise_is_exact_on_every_batch():
    """No noise and a lossless-range ADC with unit step: codes @ digits exactly, batch 1 too."""
    cfg = CrossbarConfig.ideal(adc_bits=24, adc_range="max")
    rng = np.random.default_rng(10)
    digits = rng.integers(-8, 9, (128, 40))
    codes = rng.integers(-63, 64, (300, 128))
    tile = Tile(digits, cfg, np.random.default_rng(0))
    assert np.all(tile.bound / (2**23 - 1) == 1.0)
    expect = codes @ digits
    assert np.array_equal(tile.mvm(codes), expect)
    assert np.array_equal(tile.mvm(codes[:1]), expect[:1])


@pytest.mark.parametrize("with_noise", [True, False])
def test_two_thread_read_equals_the_one_thread_read(monkeypatch, with_noise):
    """The worker-thread signal product is the same computation: identical outputs, energy and
    read counts for the same seed, and the same random stream afterwards."""
    rng = np.random.default_rng(21)
    w = rng.uniform(-1, 1, (256, 200))
    x = rng.uniform(-1, 1, (300, 256))
    cfg = _bench_cfg(read_noise=1.0 if with_noise else 0.0)

    def run(par):
        monkeypatch.setattr(tile_mod, "PARALLEL_MIN_BATCH", par)
        ft = FloatTile(w, cfg, seed=3)
        out = np.concatenate([ft(x), ft(x[:5]), ft(x)])
        return out, ft.tile.e_array_j, ft.tile.n_reads

    serial, parallel = run(None), run(1)
    assert np.array_equal(serial[0], parallel[0])
    assert serial[1:] == parallel[1:]
