"""The 45 nm estimate on a graph small enough to price by hand."""

import numpy as np
import pytest

from codesign.energy.digital import estimate, sram_pj_per_bit
from codesign.ir.graph import DenseLayer, IntGraph, QuantSpec, Requant


def tiny_graph(weight_bits=4):
    u8 = QuantSpec(8, False, -4)
    w = np.array([[3, -2, 1], [0, 7, -7]])  # |w| <= 7: 4-bit signed multiplier input
    lay = DenseLayer(
        name="fc0",
        weight=w,
        bias=np.array([0, 0]),
        requant=Requant(np.array([3, 3]), np.array([4, 4]), lo=0, hi=255),  # 2-bit multiplier
        in_q=u8,
        out_q=u8,
        relu=True,
        quantizer="uniform",
        weight_bits=weight_bits,
    )
    return IntGraph("tiny", u8, [lay])


def test_hand_computed_energy():
    rep = estimate(tiny_graph())
    row = rep["layers"][0]
    assert row["macs"] == 6
    acc = row["acc_bits"]
    # acc bound: 255 * (7 + 7) = 3570 -> 12 bits + sign = 13
    assert acc == 13
    assert row["mult_pJ"] == pytest.approx(6 * 0.2 * 4 * 8 / 64)
    assert row["add_pJ"] == pytest.approx(6 * 0.1 * 13 / 32)
    assert row["requant_pJ"] == pytest.approx(2 * 3.1 * 13 * 2 / 1024)
    assert row["weight_mem_pJ"] == pytest.approx(6 * 4 * 10 / 64)  # 3 bytes of weights: 8 KB SRAM
    assert row["act_mem_pJ"] == pytest.approx(3 * 8 * 10 / 64)
    assert rep["total_pJ"] == pytest.approx(
        row["mult_pJ"]
        + row["add_pJ"]
        + row["requant_pJ"]
        + row["weight_mem_pJ"]
        + row["act_mem_pJ"]
    )
    assert rep["fp32_baseline_pJ"] > rep["total_pJ"]


def test_more_weight_bits_never_cost_less():
    assert estimate(tiny_graph(8))["total_pJ"] > estimate(tiny_graph(4))["total_pJ"]


def test_sram_size_buckets():
    assert sram_pj_per_bit(100) == 10 / 64
    assert sram_pj_per_bit(20 * 1024) == 20 / 64
    assert sram_pj_per_bit(2**30) == 100 / 64


def test_stage_ops_are_priced_per_bit_of_width():
    """A stage reporting widths is priced like the layers: adds at add32/32 per accumulator bit,
    requantisations at mult32/1024 per (accumulator bit x multiplier bit); an unknown op is an
    error naming the layer, stage and op."""
    from types import SimpleNamespace

    from codesign.energy.constants import HOROWITZ_45NM as H
    from codesign.energy.digital import stage_pj
    from codesign.errors import CodesignError

    def layer(ops):
        st = SimpleNamespace(kind="asq", ops=lambda feats: ops)
        return SimpleNamespace(
            name="fc0", stages=[st], in_stage=None, in_features=4, out_features=4
        )

    got = stage_pj(layer({"mult": 5, "add_bits": 238, "mult_bits": 56}))
    assert got == pytest.approx(5 * H["mult8"] + 238 * H["add32"] / 32 + 56 * H["mult32"] / 1024)
    with pytest.raises(CodesignError, match="fc0.*asq.*'divide'"):
        stage_pj(layer({"divide": 1}))


def test_a_users_technology_file_prices_the_estimate(tmp_path):
    """`energy --tech-dir`: the 45 nm estimate reads the given file (it read the shipped one
    whatever the directory said). Doubling mult8 there doubles the multiply energy, only it."""
    import yaml

    from codesign.energy.constants import horowitz
    from codesign.energy.techfile import default_dir, load_all

    doc = yaml.safe_load((default_dir() / "asic45.yaml").read_text())
    doc["actions"]["mult8"]["value"] *= 2
    (tmp_path / "asic45.yaml").write_text(yaml.safe_dump(doc))
    mine = estimate(tiny_graph(), horowitz(load_all(tmp_path)["asic45"]))
    base = estimate(tiny_graph())
    assert mine["layers"][0]["mult_pJ"] == pytest.approx(2 * base["layers"][0]["mult_pJ"])
    assert mine["layers"][0]["add_pJ"] == base["layers"][0]["add_pJ"]
