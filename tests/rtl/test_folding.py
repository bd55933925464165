"""Folding from flows/<model>.yaml: defaults for missing layers, errors naming the layer."""

import pytest

from codesign.errors import CodesignError
from codesign.rtl.folding import default_fold, load_folding
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
