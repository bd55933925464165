"""ADC/DAC quantisation is exact on crafted inputs; seeds reproduce; energy is hand-computed."""

import numpy as np
import pytest
from conftest import make_graph, make_inputs

from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.converters import adc_convert, adc_step, dac_codes
from codesign.sim.reram.energy import adc_energy_j, dac_energy_j, energy_breakdown
from codesign.sim.reram.mapping import map_graph
from codesign.sim.reram.tile import FloatTile, Tile


def test_adc_crafted_values():
    # 3-bit signed ADC: codes -3..3; bound 3 -> step 1; rint is half-to-even
    y = np.array([-5.0, -3.4, -0.5, 0.5, 1.5, 2.5, 3.6])
    assert adc_convert(y, 3, 3.0).tolist() == [-3, -3, 0, 0, 2, 2, 3]
    # bound 6 -> step 2: y / 2 rounded, times 2, saturating at +-6
    assert adc_convert(y, 3, 6.0).tolist() == [-4, -4, 0, 0, 2, 2, 4]
    assert adc_step(255.0, 9) == 1.0  # 9-bit: codes -255..255 (aihwkit out_res 1/510)
    # per-column bounds
    out = adc_convert(np.array([[10.0, 10.0]]), 4, np.array([7.0, 70.0]))
    assert out.tolist() == [[7.0, 10.0]]
    assert adc_convert(np.array([123456.4, -0.5]), None, 1.0).tolist() == [123456.0, 0.0]


def test_dac_crafted_values():
    # 7-bit signed DAC: codes -63..63 (aihwkit inp_res 1/126)
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1 / 126, 0.5, 1.0])
    assert dac_codes(x, 7, 1.0).tolist() == [-63, -63, -32, 0, 0, 32, 63]


def test_tile_adc_matches_hand_computation():
    digits = np.array([[1, -2], [3, 4]])
    cfg = CrossbarConfig.ideal(adc_bits=4, levels=5, dac_bits=3)  # codes -3..3, ADC -7..7
    tile = Tile(digits, cfg, np.random.default_rng(0), adc_bound=np.array([7.0, 14.0]))
    codes = np.array([[3, 1], [-3, 3], [1, 1]])
    # analog: [[6, -2], [6, 18], [4, 2]]; col 0 step 1 (saturate at 7); col 1 step 2
    assert tile.mvm(codes).tolist() == [[6, -2], [6, 14], [4, 2]]


def test_adc_share_uses_one_range_per_adc():
    cfg = CrossbarConfig.ideal(adc_bits=4, adc_share=2, adc_step_pow2=False)
    tile = Tile(
        np.zeros((1, 4), int),
        cfg,
        np.random.default_rng(0),
        adc_bound=np.array([1.0, 7.0, 3.0, 2.0]),
    )
    assert tile.bound.tolist() == [7.0, 7.0, 3.0, 3.0]


def test_adc_step_rounds_up_to_a_power_of_two():
    cfg = CrossbarConfig.ideal(adc_bits=4)  # codes -7..7
    tile = Tile(
        np.zeros((1, 4), int),
        cfg,
        np.random.default_rng(0),
        adc_bound=np.array([3.0, 7.0, 8.0, 100.0]),
    )
    # steps 1, 1, 2, 16 (100/7 = 14.3 -> 16): full scale = step * 7
    assert tile.bound.tolist() == [7.0, 7.0, 14.0, 112.0]


def test_float_tile_ideal_matches_quantised_product():
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (32, 8))
    cfg = CrossbarConfig.ideal(levels=256, dac_bits=8)
    ft = FloatTile(w, cfg)
    x = rng.uniform(-1, 1, (5, 32))
    lmax, m = 255, 127
    wq = np.rint(w / np.abs(w).max() * lmax) * np.abs(w).max() / lmax
    xq = np.rint(x * m) / m
    np.testing.assert_allclose(ft(x), xq @ wq, rtol=1e-5, atol=1e-6)


def test_seeds_reproduce_and_differ():
    g = make_graph(2)
    x = make_inputs(g, 50)
    cfg = CrossbarConfig()  # every default non-ideality on
    a = map_graph(g, cfg, calib_x=x).run(x)["fc2"]
    b = map_graph(g, cfg, calib_x=x).run(x)["fc2"]
    c = map_graph(g, cfg.replace(seed=1), calib_x=x).run(x)["fc2"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_crossbar_energy_hand_computed():
    cfg = CrossbarConfig.ideal(levels=3, dac_bits=3, g_min_us=1.0, g_max_us=21.0)
    tile = Tile(np.array([[2], [-1]]), cfg, np.random.default_rng(0))
    tile.mvm(np.array([[3, -2]]))
    v1, v2 = 0.2, -0.2 * 2 / 3  # code / dac_max * v_read
    g_row1 = (21.0 + 1.0) * 1e-6  # G+ = g_max, G- = g_min
    g_row2 = (1.0 + 11.0) * 1e-6
    expect = (g_row1 * v1**2 + g_row2 * v2**2) * 250e-9
    assert tile.e_array_j == pytest.approx(expect, rel=1e-6)


def test_energy_counts_per_inference():
    g = make_graph(0)
    x = make_inputs(g, 10)
    cfg = CrossbarConfig(seed=0)
    m = map_graph(g, cfg, calib_x=x)
    m.run(x)
    e = energy_breakdown(m, len(x))
    c = e["counts_per_inference"]
    # uint8 inputs, 7-bit DAC: 2 pulses per layer; each layer fits one tile
    rows = [64, 64, 32]
    cols = [3 * 64, 3 * 32, 3 * 10]  # 3 base-9 weight digits per output
    assert c["dac_conversions"] == 2 * sum(rows)
    assert c["adc_conversions"] == 2 * sum(cols)
    assert e["macs_per_inference"] == 64 * 64 + 64 * 32 + 32 * 10
    per = e["per_inference"]
    assert per["adc_j"] == pytest.approx(c["adc_conversions"] * adc_energy_j(9))
    assert per["dac_j"] == pytest.approx(c["dac_conversions"] * dac_energy_j(7))
    assert per["total_j"] == pytest.approx(sum(v for k, v in per.items() if k != "total_j"))
    assert adc_energy_j(8) == pytest.approx(1.6667e-12, rel=1e-4)  # ISAAC 8-bit ADC
