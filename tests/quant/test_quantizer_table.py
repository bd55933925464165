"""`codesign quantizers`: variants expand to the right flow overrides, the table reads a sweep."""

from __future__ import annotations

import json

import pytest
import yaml

from codesign.dse.stages import PointContext
from codesign.errors import CodesignError
from codesign.quant.table import goals, main, markdown
from codesign.quant.variants import VARIANTS, quant_overrides


def test_variant_sets_weights_and_activations_to_the_same_bits():
    assert quant_overrides("asq_post", 3) == {
        "weight_quant": "post",
        "act_quant": "asq",
        "weight_bits": 3,
        "act_bits": 3,
    }
    with pytest.raises(CodesignError, match="unknown quantizer variant 'lsq'"):
        quant_overrides("lsq", 3)


def test_point_context_expands_variant_and_bits(tmp_path):
    ctx = PointContext(
        "digits_mlp", {"quant.variant": "uniform", "quant.bits": 2, "train.qat_epochs": 1}, tmp_path
    )
    assert ctx.overrides() == {
        "quant": {"weight_quant": "uniform", "act_quant": "fixed", "weight_bits": 2, "act_bits": 2},
        "train": {"qat_epochs": 1},
    }


def _row(variant, bits, acc, gm=0, rm=0):
    return {
        "variant": variant,
        "bits": bits,
        "status": "ok",
        "accuracy": acc,
        "golden_mismatches": gm,
        "rtl_mismatches": rm,
        "weight_memory_bits": 100,
        "lut": None,
        "ff": None,
        "dsp": None,
        "energy_pJ": 1.0,
        "unavailable": {"lut": "stage synth: yosys missing"},
    }


def test_goals_and_markdown_from_rows():
    rows = [_row("uniform", 3, 0.80), _row("asq_post", 3, 0.90, rm=2), _row("post", 2, 0.5)]
    g = goals(rows)
    assert g["asq_post_beats_uniform_at_3_bits"] is True
    assert g["points_bit_exact"] == 2 and g["points_checked_end_to_end"] == 3
    md = markdown(rows)
    assert "| 90.00 |" in md and "n/a" in md and "yosys missing" in md
    assert goals([_row("uniform", 3, 0.8)])["asq_post_beats_uniform_at_3_bits"] is None


def test_every_variant_is_a_sweep_choice():
    from codesign.dse.space import STATIC_PARAMS

    assert set(STATIC_PARAMS["quant.variant"].choices) == set(VARIANTS)


@pytest.mark.slow
def test_cli_runs_a_small_table(build_root, tmp_path, capsys):
    """Two fixed-point variants at 2 bits, tiny training, no RTL: the whole verb end to end."""
    space = {
        "model": "digits_mlp",
        "name": "qtable-test",
        "axes": {"quant.variant": ["uniform", "post"], "quant.bits": [2]},
        "fixed": {"train.float_epochs": 2, "train.qat_epochs": 1},
        "metrics": ["accuracy", "golden_mismatches", "weight_memory_bits", "energy_pJ"],
    }
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    rc = main(["digits_mlp", "--space", str(path), "--workers", "1", "--no-progress"])
    assert rc == 0
    rep = json.loads((build_root / "digits_mlp" / "reports" / "quantizers.json").read_text())
    assert [(r["variant"], r["bits"]) for r in rep["rows"]] == [("uniform", 2), ("post", 2)]
    assert all(r["golden_mismatches"] == 0 for r in rep["rows"])
    # 2-bit uniform narrow range has 3 levels per weight: 2 bits stored; POST 2-bit: 2 bits too
    assert all(r["weight_memory_bits"] == 2 * (64 * 64 + 64 * 32 + 32 * 10) for r in rep["rows"])
    assert (build_root / "digits_mlp" / "reports" / "quantizers.png").stat().st_size > 1000
    assert "| 2 |" in capsys.readouterr().out


def test_bad_bits_is_one_clear_error(capsys):
    assert main(["digits_mlp", "--bits", "three"]) == 2
    assert "--bits expects integers" in capsys.readouterr().err
