"""Ideal crossbar == golden model, bit for bit, whatever the tiling and slicing."""

import numpy as np
import pytest
from conftest import make_graph, make_inputs
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError
from codesign.ir import chain
from codesign.sim.reram.config import CrossbarConfig
from codesign.sim.reram.mapping import (
    compare,
    make_encoding,
    map_graph,
    n_digits,
    split_digits,
    worst_case_adc_bits,
)


def _exact(graph, cfg, n=64, seed=1):
    x = make_inputs(graph, n, seed)
    ref = chain.run(graph, x)
    got = map_graph(graph, cfg).run(x)
    rows = compare(ref, got)
    assert [r["mismatches"] for r in rows] == [0] * len(graph.layers), rows
    for name in ref:
        assert np.array_equal(ref[name], got[name])


def test_digits_mlp_shape_is_exact():
    g = make_graph(0)  # 64 -> 64 -> 32 -> 10, POST-like weights up to +-256
    _exact(g, CrossbarConfig.ideal(), n=256)


def test_multi_tile_layer_is_exact_and_split():
    g = make_graph(3, sizes=(300, 40, 10), post=False, wmax=100)
    cfg = CrossbarConfig.ideal(tile_rows=128, tile_cols=32)
    m = map_graph(g, cfg)
    # 300 rows -> 3 row blocks; 40 outputs x 3 weight digits (base 9) = 120 columns -> 4 blocks
    assert len(m.layers[0].tiles) == 3 and len(m.layers[0].tiles[0]) == 4
    _exact(g, cfg)


def test_bit_serial_inputs_and_binary_cells_are_exact():
    g = make_graph(4, sizes=(20, 12, 5))
    cfg = CrossbarConfig.ideal(dac_bits=2, levels=2)  # 1-bit pulses, 1-bit cells
    m = map_graph(g, cfg)
    assert m.layers[0].xenc.n == 8 and m.layers[0].wenc.n == 9  # 8 pulses, 9 weight bits
    _exact(g, cfg)


def test_explicit_adc_with_enough_bits_is_exact():
    g = make_graph(5)
    cfg = CrossbarConfig.ideal()
    bits = worst_case_adc_bits(g, cfg)
    _exact(g, cfg.replace(adc_bits=bits, adc_range="max"))


def test_half_up_rounding_layers_are_exact():
    _exact(make_graph(6, rounding="half_up"), CrossbarConfig.ideal())


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(1, 70),
    n_hidden=st.integers(1, 40),
    wmax=st.sampled_from([1, 7, 8, 100, 256]),
    levels=st.integers(2, 17),
    dac_bits=st.integers(2, 9),
    tile=st.sampled_from([(256, 256), (16, 8), (33, 7)]),
)
def test_ideal_is_exact_property(seed, n_in, n_hidden, wmax, levels, dac_bits, tile):
    g = make_graph(seed, sizes=(n_in, n_hidden, 3), post=False, wmax=wmax)
    cfg = CrossbarConfig.ideal(
        levels=levels, dac_bits=dac_bits, tile_rows=tile[0], tile_cols=tile[1]
    )
    _exact(g, cfg, n=16, seed=seed + 1)


@given(st.integers(0, 10**6), st.integers(2, 20))
def test_digit_split_roundtrip(v, base):
    n = n_digits(v, base)
    digits = split_digits(np.array([v]), base, n)
    assert sum(int(d[0]) * base**k for k, d in enumerate(digits)) == v
    assert all(0 <= int(d[0]) < base for d in digits)
    assert n == 1 or int(digits[-1][0]) > 0  # no wasted top digit


def test_no_slicing_is_lossy_but_scaled():
    enc = make_encoding(256, 8, slicing=False)
    assert enc.n == 1 and enc.scale == 32.0
    assert enc.encode(np.array([256, -100, 15]), 8)[0].tolist() == [8, -3, 0]


def test_planted_fault_is_named():
    """A stuck-on device in one tile must show up as mismatches in that layer first."""
    g = make_graph(7)
    cfg = CrossbarConfig.ideal()
    m = map_graph(g, cfg)
    tile = m.layers[1].tiles[0][0]
    # weight (output 5, input 3), digit 0 lowered by levels-1, as if its G- were stuck at g_max
    tile.w_eff[3, 5] -= cfg.levels - 1
    x = make_inputs(g, 64)
    rows = compare(chain.run(g, x), m.run(x))
    assert rows[0]["mismatches"] == 0
    assert rows[1]["mismatches"] > 0 and rows[1]["first"]["index"][1] == 5
    assert rows[1]["layer"] == "fc1"


def test_input_out_of_range_is_an_error():
    g = make_graph(0)
    m = map_graph(g, CrossbarConfig.ideal())
    with pytest.raises(CodesignError, match="fc0"):
        m.run(np.full((1, 64), 300))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=8),
    st.integers(0, 2**20),
    st.integers(0, 24),
    st.sampled_from(["half_even", "half_up"]),
)
def test_periphery_requant_equals_golden_requantize(acc, mult, shift, rounding):
    """Two differently written requantisers agree (rounding constant + one shift in the
    periphery; floor, remainder and tie test in the golden model), ties included."""
    from codesign.ir.golden import requantize
    from codesign.ir.graph import Requant
    from codesign.sim.reram.mapping import periphery_requant

    a = np.array(acc, dtype=np.int64)
    if shift:  # put exact ties in: acc * mult = (2k + 1) * 2**(shift - 1)
        a[::2] = (2 * (a[::2] % 1000) + 1) << (shift - 1)
        rq = Requant(np.array([1]), np.array([shift]), -(2**62), 2**62, rounding)
        assert np.array_equal(periphery_requant(a, rq), requantize(a, rq))
    rq = Requant(np.array([mult]), np.array([shift]), -(2**31), 2**31 - 1, rounding)
    assert np.array_equal(periphery_requant(a, rq), requantize(a, rq))
