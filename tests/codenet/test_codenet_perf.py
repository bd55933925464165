"""Cycle model formulas (hand-computed) and the paper-scale configuration c accounting."""

from __future__ import annotations

import pytest

from codesign.codenet import paper_scale, perf


def test_pointwise_cycles_hand_computed():
    # 16 -> 16 channels, PA = PE = 4: per pixel 4 load beats + 4 groups x (4 MAC + 1 requant)
    assert perf.pw_cycles(16, 16, 16, 16, 4, 4) == 256 * (4 + 4 * 5)
    assert perf.ideal_pw(16, 16, 16, 16, 4, 4) == 256 * 16


def test_depthwise_cycles_hand_computed():
    # 16 channels, PE = 4: load 4 beats/pixel; per pixel 1 (s) + 4 x 11; 16 + 8 row steps
    assert perf.dw_cycles(16, 16, 16, 4) == 256 * 4 + 256 * (1 + 44) + 16 + 8


def test_config_c_accounting():
    a = paper_scale.accounting()
    assert a["paper"] == {
        "input_px": 512,
        "gmac": 1.14,
        "weight_mb": 0.76,
        "fps": 9.3,
        "ap50": 61.7,
    }
    specs = paper_scale.config_c()
    assert specs[0].macs == 128 * 128 * 3 * 24 * 9  # stride-4 3x3 stem, 3 -> 24
    dws = [s for s in specs if s.kind == "dw"]
    assert all(s.macs == s.h * s.h * s.cout * 9 for s in dws)
    assert a["gmac"] == pytest.approx(sum(s.macs for s in specs) / 1e9, abs=1e-4)
    assert 0.5 < a["gmac"] / 1.14 < 1.5 and 0.5 < a["weight_mb"] / 0.76 < 1.5
    assert a["fps_ideal"] > a["fps_model"] > 0
