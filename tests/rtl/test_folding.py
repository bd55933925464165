"""Folding from flows/<model>.yaml: defaults for missing layers, errors naming the layer."""

import pytest

from codesign.errors import CodesignError
from codesign.rtl.folding import default_fold, load_folding, target_cycles
from codesign.rtl.synthetic import synthetic_mlp

G = synthetic_mlp((64, 64, 32, 10), quantizer="uniform", seed=0)


def _yaml(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


def test_yaml_folding_and_defaults(tmp_path):
    p = _yaml(tmp_path, "rtl:\n  folding:\n    fc0: {pe: 8, simd: 16}\n    fc1: {pe: 4}\n")
    f = load_folding(p, G)
    assert f["fc0"] == (8, 16)
    assert f["fc1"] == (4, 16)  # simd defaulted: largest divisor of 64 up to 16
    assert f["fc2"] == default_fold(G.layer("fc2")) == (5, 16)  # 10 outputs -> PE 5


def test_missing_file_gives_defaults():
    assert load_folding(None, G) == {"fc0": (8, 16), "fc1": (8, 16), "fc2": (5, 16)}


@pytest.mark.parametrize(
    "text,needle",
    [
        ("rtl: {folding: {fc2: {pe: 4, simd: 8}}}", "layer 'fc2': PE=4 does not divide its 10"),
        ("rtl: {folding: {fc1: {pe: 4, simd: 24}}}", "layer 'fc1': SIMD=24 does not divide"),
        ("rtl: {folding: {fc9: {pe: 1, simd: 1}}}", "'fc9'"),
        ("rtl: {folding: {fc0: {pe: 0, simd: 1}}}", "layer 'fc0': PE must be a positive"),
        ("rtl: {folding: {fc0: {pe: 2, lanes: 1}}}", "rtl.folding.fc0"),
        ("rtl: [unclosed", "malformed YAML"),
    ],
)
def test_bad_folding_names_the_layer(tmp_path, text, needle):
    with pytest.raises(CodesignError, match=None) as e:
        load_folding(_yaml(tmp_path, text), G)
    assert needle in str(e.value)


def _set_folding_rule(n_out: int, n_in: int, cycles: int) -> tuple[int, int]:
    """FINN's SetFolding rule written as a search: of every divisor pair that meets the target,
    the one with the fewest PEs, then the fewest SIMD lanes."""
    pairs = [
        (pe, simd)
        for pe in range(1, n_out + 1)
        for simd in range(1, n_in + 1)
        if n_out % pe == 0 and n_in % simd == 0 and (n_out // pe) * (n_in // simd) <= cycles
    ]
    return min(pairs)


@pytest.mark.parametrize("cycles", [1, 7, 32, 33, 80, 100, 512, 4096, 10**6])
def test_target_folding_follows_set_folding(cycles):
    g = synthetic_mlp((64, 48, 30, 10), seed=3)
    fold = load_folding(None, g, cycles=cycles)
    for lay in g.layers:
        pe, simd = fold[lay.name]
        assert (pe, simd) == _set_folding_rule(lay.out_features, lay.in_features, cycles)
        assert (lay.out_features // pe) * (lay.in_features // simd) <= cycles


def test_target_folding_keeps_explicit_overrides():
    g = synthetic_mlp((64, 48, 30, 10), seed=3)
    fold = load_folding(None, g, overrides={"fc1": {"pe": 2, "simd": 3}}, cycles=50)
    assert fold["fc1"] == (2, 3) and fold["fc0"] == _set_folding_rule(48, 64, 50)


def test_target_below_one_cycle_is_refused():
    with pytest.raises(CodesignError, match="less than one cycle"):
        target_cycles(2e8, 100)
    assert target_cycles(1e6, 100) == 100 and target_cycles(3e6, 100) == 33
