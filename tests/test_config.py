"""Settings are checked against the model's defaults before anything trains: every bad value
or misspelt key is one error naming it; a good override is taken with its type."""

from __future__ import annotations

import pytest

from codesign import config
from codesign.errors import CodesignError

DEFAULTS = {
    "quant": {"weight_bits": 4, "weight_quant": "post", "args": {}},
    "train": {"seed": 0, "float_epochs": 60, "batch_size": 64, "lr_float": 0.01},
    "thresholds": [0, 2, 4],
}


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"quant": {"weight_bits": "abc"}}, "quant.weight_bits must be an integer, got 'abc'"),
        ({"quant": {"weight_bits": 3.5}}, "quant.weight_bits must be an integer, got 3.5"),
        ({"quant": {"weight_bits": 33}}, "quant.weight_bits must be in 1..32, got 33"),
        ({"quant": {"weight_bits": True}}, "quant.weight_bits must be an integer, got True"),
        ({"quant": {"wieght_bits": 2}}, "unknown setting 'quant.wieght_bits' \\(did you mean"),
        ({"nosuch": {"key": 1}}, "unknown setting section 'nosuch'"),
        ({"train": {"batch_size": 0}}, "train.batch_size must be >= 1, got 0"),
        ({"train": {"float_epochs": -5}}, "train.float_epochs must be >= 0, got -5"),
        ({"train": {"lr_float": float("nan")}}, "train.lr_float must be a finite number"),
        ({"train": {"lr_float": 0}}, "train.lr_float must be > 0, got 0"),
        ({"train": {"float_epochs": "ten"}}, "train.float_epochs must be an integer, got 'ten'"),
        ({"train": [1, 2]}, "'train' must be a mapping"),
        ({"thresholds": 3}, "thresholds must be a list, got 3"),
    ],
)
def test_bad_settings_are_named(overrides, named):
    with pytest.raises(CodesignError, match=f"^m: .*{named}"):
        config.load("m", DEFAULTS, overrides)


def test_good_overrides_merge_section_by_section():
    got = config.load("m", DEFAULTS, {"quant": {"weight_bits": 2}, "train": {"lr_float": 1}})
    assert got["quant"] == {"weight_bits": 2, "weight_quant": "post", "args": {}}
    assert got["train"]["lr_float"] == 1.0 and isinstance(got["train"]["lr_float"], float)
    assert DEFAULTS["quant"]["weight_bits"] == 4  # the defaults are not changed


def test_flow_file_is_checked_in_declared_sections_only(tmp_path, monkeypatch):
    from codesign import paths

    (tmp_path / "m.yaml").write_text("model: m\nrtl: {clock_mhz: 100}\ntrain: {seed: -1}\n")
    monkeypatch.setattr(paths, "FLOWS_DIR", tmp_path)
    with pytest.raises(CodesignError, match="flows/m.yaml: train.seed must be >= 0, got -1"):
        config.load("m", DEFAULTS)
    (tmp_path / "m.yaml").write_text("model: m\nrtl: {clock_mhz: 100}\ntrain: {seed: 3}\n")
    assert config.load("m", DEFAULTS)["train"]["seed"] == 3
