"""Each non-ideality moves conductances/outputs in the documented direction and amount."""

import numpy as np
import pytest

from codesign.errors import CodesignError
from codesign.sim.reram import device
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.tile import Tile

N = 200_000


def _z_ok(observed, expected, sd, k=5.0):
    return abs(observed - expected) <= k * sd


def test_programming_noise_matches_aihwkit_polynomial():
    cfg = CrossbarConfig.ideal(prog_noise=1.0)
    for g in (0.0, 12.5, 25.0):
        target = np.full(N, g)
        p = device.program(target, cfg, np.random.default_rng(1))
        ghat = g / 25.0
        sigma = 0.26348 + 1.9650 * ghat - 1.1731 * ghat**2  # µS, Nandakumar et al. 2019
        err = p.g_us - target
        if g > 3 * sigma:  # not clipped at 0: unbiased, std = sigma
            assert _z_ok(err.mean(), 0.0, sigma / np.sqrt(N))
            assert abs(err.std() / sigma - 1) < 5 / np.sqrt(2 * N)
        else:  # clipped at 0: only positive deviations survive
            assert (p.g_us >= 0).all() and err.mean() > 0


def test_prog_noise_scale_is_linear():
    target = np.full(N, 12.5)
    e1 = device.program(target, CrossbarConfig.ideal(prog_noise=1.0), np.random.default_rng(2))
    e2 = device.program(target, CrossbarConfig.ideal(prog_noise=2.0), np.random.default_rng(2))
    # common random numbers: the error doubles exactly
    np.testing.assert_allclose(e2.g_us - 12.5, 2 * (e1.g_us - 12.5), rtol=1e-12, atol=1e-12)


def test_write_verify_shrinks_error():
    target = np.full(N, 20.0)
    outside = []
    for iters in (0, 1, 3):
        cfg = CrossbarConfig.ideal(prog_noise=1.0, write_verify_iters=iters)
        p = device.program(target, cfg, np.random.default_rng(3))
        outside.append(np.mean(np.abs(p.g_us - target) > cfg.write_verify_tol_us))
    assert outside[0] > outside[1] > outside[2]


def test_d2d_is_a_gain_on_the_programmed_range():
    cfg = CrossbarConfig.ideal(d2d_sigma=0.1, g_min_us=2.0)
    target = np.full(N, 22.0)
    p = device.program(target, cfg, np.random.default_rng(4))
    rel = (p.g_us - 2.0) / 20.0 - 1.0  # the device gain minus 1
    assert abs(rel.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * N)
    assert np.allclose(device.program(np.full(10, 2.0), cfg, np.random.default_rng(0)).g_us, 2.0)


def test_drift_follows_the_power_law_exactly():
    cfg = CrossbarConfig.ideal(drift=1.0, t_inference_s=86400.0)
    rng = np.random.default_rng(5)
    target = np.full((2, 64, 64), 25.0)
    prog = device.program(target, cfg, rng)
    tile = Tile.from_programmed(target, prog, cfg, np.random.default_rng(0))
    ratio = tile.g_us / tile.g0_us
    expect = ((86400.0 + 20.0) / 20.0) ** (-prog.nu)  # G(t) = G(t0) ((t + t0)/t0)^-nu
    np.testing.assert_allclose(ratio, expect, rtol=1e-12)
    assert (ratio < 1).all()  # drift only lowers conductance
    # at g = g_max the aihwkit fit gives nu ~ N(0.049, 0.008)
    assert _z_ok(prog.nu.mean(), 0.049, 0.008 / np.sqrt(prog.nu.size))


def test_drift_compensation_restores_the_mean_gain():
    digits = np.full((64, 32), 4)
    codes = np.ones((1, 64))
    cfg = CrossbarConfig.ideal(drift=1.0, t_inference_s=3.15e7, drift_compensation=False)
    raw = Tile(digits, cfg, np.random.default_rng(6)).analog(codes).mean()
    comp_tile = Tile(digits, cfg.replace(drift_compensation=True), np.random.default_rng(6))
    comp = comp_tile.mvm(codes).mean()
    ideal = 64 * 4
    assert raw < 0.75 * ideal  # ~ (1.6e6)^-0.05 of the ideal after a year
    assert abs(comp / ideal - 1) < 0.01


def test_stuck_at_rates_within_binomial_bounds():
    cfg = CrossbarConfig.ideal(p_stuck_on=0.02, p_stuck_off=0.05)
    p = device.program(np.full(N, 12.5), cfg, np.random.default_rng(7))
    for mask, rate, value in ((p.stuck_on, 0.02, 25.0), (p.stuck_off, 0.05, 0.0)):
        assert _z_ok(mask.mean(), rate, np.sqrt(rate * (1 - rate) / N))
        assert np.all(p.g_us[mask] == value)
    assert not (p.stuck_on & p.stuck_off).any()
    assert np.all(p.nu[p.stuck_on | p.stuck_off] == 0)


def test_read_noise_std_matches_the_column_variance():
    """Per-read noise: the column error std is sqrt(sum_i code_i^2 (s+^2 + s-^2))."""
    cfg = CrossbarConfig.ideal(read_noise=1.0, levels=9)
    digits = np.random.default_rng(8).integers(-8, 9, size=(128, 16))
    tile = Tile(digits, cfg, np.random.default_rng(9))
    codes = np.random.default_rng(10).integers(-63, 64, size=(1, 128)).astype(float)
    reps = np.repeat(codes, 20_000, axis=0)
    err = tile.analog(reps) - codes @ digits
    sig = device.read_sigma_us(tile.g_us, cfg) / cfg.dg_us
    expect = np.sqrt((codes[0, :, None] ** 2 * (sig[0] ** 2 + sig[1] ** 2)).sum(axis=0))
    np.testing.assert_allclose(err.std(axis=0), expect, rtol=0.05)
    np.testing.assert_allclose(err.mean(axis=0), 0, atol=5 * expect.max() / np.sqrt(20_000))


def test_read_noise_grows_with_time_like_1_over_f():
    g = np.full(4, 10.0)
    s1 = device.read_sigma_us(g, CrossbarConfig.ideal(read_noise=1.0, t_inference_s=0.0))
    s2 = device.read_sigma_us(g, CrossbarConfig.ideal(read_noise=1.0, t_inference_s=3.15e7))
    t_r = 250e-9
    ratio = np.sqrt(np.log((3.15e7 + 20 + t_r) / (2 * t_r)) / np.log((20 + t_r) / (2 * t_r)))
    np.testing.assert_allclose(s2 / s1, ratio)


def test_ir_drop_single_cell_hand_computed():
    """One cell: row and column wires each drop r*I, so I' = G (V - 2 r G V)."""
    cfg = CrossbarConfig.ideal(r_wire_ohm=100.0, levels=2, dac_bits=2)
    tile = Tile(np.array([[1]]), cfg, np.random.default_rng(0))
    g = 25e-6  # S
    v = 0.2
    i_ideal = g * v
    i_ir = g * (v - 2 * 100.0 * g * v)
    y = tile.analog(np.array([[1.0]]))[0, 0]
    assert y == pytest.approx(i_ir / i_ideal, rel=1e-6)


def test_ir_drop_lowers_outputs_more_on_bigger_arrays():
    cfg = CrossbarConfig.ideal(r_wire_ohm=1.0)
    rel = []
    for n in (16, 64, 128):
        digits = np.full((n, n), 8)
        tile = Tile(digits, cfg, np.random.default_rng(0))
        codes = np.full((1, n), 63.0)
        y = tile.analog(codes)
        rel.append(float(y.mean() / (n * 8 * 63)))
    assert 1 > rel[0] > rel[1] > rel[2]


def test_bad_parameters_are_named():
    with pytest.raises(CodesignError, match="p_stuck_on"):
        CrossbarConfig(p_stuck_on=1.5)
    with pytest.raises(CodesignError, match="dac_bits"):
        CrossbarConfig(dac_bits=1)
    with pytest.raises(CodesignError, match="unknown reram parameter 'foo'"):
        CrossbarConfig().replace(foo=1)


def test_read_noise_through_the_adc_fast_paths():
    """Batch-1 (fused product) and large-batch reads through a fine ADC see the same noise."""
    cfg = CrossbarConfig.ideal(read_noise=1.0, adc_bits=16, adc_range="max", adc_step_pow2=False)
    digits = np.random.default_rng(11).integers(-8, 9, size=(64, 8))
    codes = np.random.default_rng(12).integers(-63, 64, size=(1, 64)).astype(float)
    tile = Tile(digits, cfg, np.random.default_rng(13))
    sig = device.read_sigma_us(tile.g_us, cfg) / cfg.dg_us
    expect = np.sqrt((codes[0, :, None] ** 2 * (sig[0] ** 2 + sig[1] ** 2)).sum(axis=0))
    ones = np.stack([tile.mvm(codes)[0] for _ in range(4000)])
    batch = tile.mvm(np.repeat(codes, 4000, axis=0))
    for out in (ones, batch):
        np.testing.assert_allclose(out.std(axis=0), expect, rtol=0.1)
        np.testing.assert_allclose(out.mean(axis=0), (codes @ digits)[0], atol=expect.max() / 5)
