"""Sweep-space parsing: every bad entry is one clear error; grid/random enumeration is exact."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.dse.space import load_space, parse_space, point_id
from codesign.errors import CodesignError
from codesign.paths import FLOWS_DIR

BASE = {"model": "digits_mlp", "name": "t", "axes": {"quant.weight_bits": [2, 4]}}


def space(**kw):
    return parse_space({**BASE, **kw}, "t.yaml")


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"axes": {"quant.wieght_bits": [2]}}, "unknown parameter 'quant.wieght_bits'"),
        ({"axes": {"quant.weight_bits": {"range": [8, 2]}}}, "empty range 8..2"),
        ({"axes": {"quant.weight_bits": []}}, "axis 'quant.weight_bits': empty list"),
        ({"axes": {"quant.weight_bits": [4, 9]}}, "value 9 out of range 2..8"),
        ({"axes": {"quant.weight_bits": [4, 4]}}, "repeated values"),
        ({"axes": {"quant.weight_quant": ["post", "asq"]}}, "value 'asq' not one of"),
        ({"axes": {"quant.weight_bits": "4"}}, "give a list of values"),
        ({"axes": {"train.lr_float": {"range": [0, 1]}}}, "'range' only works for integer"),
        ({"axes": {"train.no_such": [1]}}, "unknown parameter 'train.no_such'"),
        ({"axes": {"rtl.folding": [{"fc0": [8]}]}}, "layer 'fc0' needs [pe, simd]"),
        ({"axes": {"rtl.folding.fc0.pe": [0]}}, "value 0 out of range 1.."),
        ({"axes": {}}, "'axes' must map at least one"),
        ({"metrics": ["accuracy", "speed"]}, "unknown metric 'speed'"),
        ({"objectives": {"lut": "min"}}, "objective 'lut' is not in metrics"),
        ({"objectives": {"accuracy": "up"}}, "must be min or max"),
        ({"sampler": "bayes"}, "sampler 'bayes' not one of"),
        ({"sampler": "optuna"}, "needs 'samples'"),
        ({"samples": 0}, "samples must be a positive integer"),
        ({"fixed": {"quant.weight_bits": 4}}, "axis 'quant.weight_bits' is also under 'fixed'"),
        ({"fixed": {"substrate": "gpu"}}, "fixed 'substrate': value 'gpu' not one of"),
        ({"model": "resnet"}, "unknown model 'resnet'"),
        ({"colour": "blue"}, "unknown key(s) ['colour']"),
        ({"recommended": {"substrate": "sfq"}}, "recommended 'substrate' is not an axis"),
    ],
)
def test_bad_space_is_one_clear_error(doc, needle):
    with pytest.raises(CodesignError) as e:
        space(**doc)
    assert needle in str(e.value)
    assert str(e.value).startswith("t.yaml") or "unknown model" in needle


def test_both_folding_forms_rejected():
    with pytest.raises(CodesignError, match="either rtl.folding or rtl.folding.<layer>"):
        space(
            fixed={"rtl.folding": {"fc0": [8, 16]}},
            axes={"rtl.folding.fc1.pe": [2, 4]},
        )


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(CodesignError, match="not found"):
        load_space(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("axes: [unclosed\n")
    with pytest.raises(CodesignError, match=f"malformed YAML {bad}"):
        load_space(bad)
    other = tmp_path / "o.yaml"
    other.write_text(json.dumps(BASE))
    with pytest.raises(CodesignError, match="not 'other'"):
        load_space(other, "other")


def test_range_step_and_grid_order():
    s = space(
        axes={"quant.weight_bits": {"range": [2, 8], "step": 3}, "substrate": ["asic45", "sfq"]},
        fixed={"train.qat_epochs": 1},
    )
    assert s.axes["quant.weight_bits"] == [2, 5, 8]
    pts = s.points()
    assert s.size() == len(pts) == 6
    assert pts[0] == {"train.qat_epochs": 1, "quant.weight_bits": 2, "substrate": "asic45"}
    assert pts[1]["substrate"] == "sfq"  # last axis fastest
    assert [s.at(i) for i in range(6)] == pts


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 10**6))
def test_random_sampler_is_a_seeded_subset_of_the_grid(lengths, seed):
    axes = {f"rtl.folding.fc{i}.pe": list(range(1, n + 1)) for i, n in enumerate(lengths)}
    s = space(axes=axes, sampler="random", samples=5, seed=seed)
    grid = [json.dumps(p, sort_keys=True) for p in s.grid()]
    got = [json.dumps(p, sort_keys=True) for p in s.points()]
    assert len(got) == min(5, len(grid)) == len(set(got))
    assert set(got) <= set(grid)
    assert s.points() == s.points()  # same seed, same points


def test_point_id_is_stable_and_order_free():
    a = point_id("digits_mlp", {"x": 1, "y": {"fc0": [1, 2]}})
    assert a == point_id("digits_mlp", {"y": {"fc0": [1, 2]}, "x": 1})
    assert a != point_id("digits_mlp", {"x": 2, "y": {"fc0": [1, 2]}})
    assert a.startswith("p") and len(a) == 13


def test_ci_space_is_16_points_with_the_recommended_one_once():
    s = load_space(FLOWS_DIR / "digits_mlp.sweep.yaml", "digits_mlp")
    assert s.size() == 16 and s.sampler == "grid"
    # the flow file's folding (README configuration) and W4 are the recommended values
    assert s.recommended["quant.weight_bits"] == 4
    assert s.recommended["rtl.folding"] == {"fc0": [8, 16], "fc1": [4, 16], "fc2": [2, 8]}
    assert sum(s.is_recommended(p) for p in s.points()) == 1
    assert len({point_id(s.model, p) for p in s.points()}) == 16


def test_search_space_parses():
    s = load_space(FLOWS_DIR / "digits_mlp.search.yaml", "digits_mlp")
    assert s.sampler == "optuna" and s.samples == 24
    assert s.size() == 3 * 7 * 4 * 3


def test_folding_forms_normalise():
    s = space(axes={"rtl.folding": [{"fc0": {"pe": 8, "simd": 16}, "fc1": [4, 16]}]})
    assert s.axes["rtl.folding"] == [{"fc0": [8, 16], "fc1": [4, 16]}]
