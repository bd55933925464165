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


# --- the conv model: codenet_tiny's own pipeline, labels and n/a rows ---


def test_codenet_has_its_own_pipeline_and_digits_keeps_the_dense_one():
    from codesign.dse.stages import plan

    def names(model, metrics):
        return [s.name for s in plan(metrics, "asic45", model)]

    # energy reads the accelerator's simulated cycles, so it follows rtl for codenet_tiny
    assert names("codenet_tiny", ["energy_pJ"]) == ["train", "export", "golden", "rtl", "energy"]
    assert names("codenet_tiny", ["lut", "accuracy"]) == [
        "train",
        "export",
        "golden",
        "rtl",
        "synth",
    ]
    assert names("digits_mlp", ["energy_pJ"]) == ["train", "export", "energy"]
    assert names("codenet_tiny", ["reram_accuracy"]) == []


def test_codenet_variant_bits_are_weight_bits(tmp_path):
    from codesign.codenet.sweep import _overrides
    from codesign.models import codenet_tiny as ct

    ctx = PointContext("codenet_tiny", {"quant.variant": "post2", "quant.bits": 3}, tmp_path)
    ov = _overrides(ctx)
    assert ov == {"quant": {"weight_quant": "post2", "act_quant": "fixed", "weight_bits": 3}}
    assert ct.config(ov)["quant"]["weight_bits"] == 3
    # an explicit activation width is the user's and is refused by name
    ctx = PointContext("codenet_tiny", {"quant.act_bits": 4}, tmp_path)
    with pytest.raises(CodesignError, match="quant.act_bits 4: activations are A8"):
        ct.config(_overrides(ctx))
    ctx = PointContext("codenet_tiny", {"quant.variant": "asq_post", "quant.bits": 3}, tmp_path)
    with pytest.raises(CodesignError, match="no activation-stage units"):
        ct.config(_overrides(ctx))


def test_codenet_metric_without_a_stage_is_unavailable(tmp_path):
    from codesign.dse.point import run_point

    res = run_point("codenet_tiny", {}, str(tmp_path / "p"), ["reram_accuracy"], "pnone")
    assert res["status"] == "ok" and res["stages"] == {} and res["metrics"] == {}
    assert res["unavailable"] == {"reram_accuracy": "codenet_tiny has no stage reram"}


def test_codenet_table_labels_ap50_and_na_rows():
    from codesign.quant.table import columns, table_info, unsupported_rows

    info = table_info("codenet_tiny")
    assert dict(columns(info))["accuracy"] == "AP50 %"
    assert dict(columns(table_info("digits_mlp")))["accuracy"] == "accuracy %"
    rows = [_row("post", 3, 0.5)] + unsupported_rows(["asq_post", "adalog", "post"], info)
    assert [r["variant"] for r in rows] == ["post", "asq_post", "adalog"]
    md = markdown(rows, info)
    assert "| AP50 % |" in md and "| POST b=sqrt2 W, A8 | 3 | 50.00 |" in md
    assert "| POST b=sqrt2 W, ASQ A | all | n/a |" in md
    assert md.count("has no activation-stage units") == 2 and "bits: weight bits" in md
    assert goals(rows)["points"] == 1 and goals(rows)["points_bit_exact"] == 1
    # digits_mlp's table is unchanged: no bits note, its own labels
    assert "bits:" not in markdown([_row("post", 3, 0.5)])


@pytest.mark.slow
def test_cli_runs_a_small_codenet_table(build_root, tmp_path, capsys):
    """POST b=2 at 3 bits, 1 epoch per phase, 1 RTL image: every column, plus the n/a rows."""
    space = {
        "model": "codenet_tiny",
        "name": "qtable-codenet-test",
        "axes": {"quant.variant": ["post2"], "quant.bits": [3]},
        "fixed": {
            "train.float_epochs": 1,
            "train.rounded_epochs": 1,
            "train.qat_epochs": 1,
            "rtl.samples": 1,
        },
        "metrics": [
            "accuracy",
            "golden_mismatches",
            "rtl_mismatches",
            "weight_memory_bits",
            "lut",
            "energy_pJ",
        ],
    }
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    rc = main(["codenet_tiny", "--space", str(path), "--workers", "1", "--no-progress"])
    assert rc == 0
    rep = json.loads((build_root / "codenet_tiny" / "reports" / "quantizers.json").read_text())
    assert rep["columns"]["accuracy"] == "AP50 %"
    ok, *na = rep["rows"]
    assert (ok["variant"], ok["bits"], ok["status"]) == ("post2", 3, "ok")
    assert ok["golden_mismatches"] == 0 and ok["rtl_mismatches"] == 0
    assert ok["lut"] > 0 and ok["energy_pJ"] > 0
    # 16 channels, 3 blocks: stem 16x16 and off 3x16 at 8 bits; dw 3x16x9, pw 3x16x16, head 7x16
    assert ok["weight_memory_bits"] == 8 * (256 + 48) + 3 * (432 + 768 + 112)
    assert [(r["variant"], r["status"]) for r in na] == [("asq_post", "n/a"), ("adalog", "n/a")]
    assert "| POST b=2 W, A8 | 3 |" in capsys.readouterr().out
