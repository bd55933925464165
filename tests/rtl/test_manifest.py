"""manifest.json: one schema for every generated RTL folder, checked on write and on read."""

from __future__ import annotations

import json

import pytest

from codesign.errors import CodesignError
from codesign.rtl import manifest
from codesign.rtl.generate import generate
from codesign.rtl.synthetic import synthetic_mlp

FOLD = {"fc0": (4, 8), "fc1": (2, 8)}


def test_two_checkouts_write_the_same_manifest(tmp_path):
    """No absolute path in a manifest: the same model generated in two folders gives the same
    bytes, and the folder reads back as what the generator returned."""
    g = synthetic_mlp((16, 8, 4), quantizer="uniform", seed=1, name="m")
    mans = [generate(g, FOLD, tmp_path / side / "build" / "m" / "rtl") for side in ("a", "b")]
    texts = [(tmp_path / s / "build/m/rtl/manifest.json").read_text() for s in ("a", "b")]
    assert texts[0] == texts[1] and str(tmp_path) not in texts[0]
    assert manifest.load(tmp_path / "a/build/m/rtl", "mvu") == mans[0]
    assert (mans[0]["schema"], mans[0]["kind"], mans[0]["top_file"]) == (1, "mvu", "m_top.v")


def _write(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(text)
    return folder


GOOD = {"schema": 1, "kind": "snn", "model": "m", "top": "t", "top_file": "t.v", "sources": ["t.v"]}


@pytest.mark.parametrize(
    "text,needle",
    [
        (None, "no generated RTL in"),
        ("{not json", "not a readable manifest"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({**GOOD, "schema": 0}), "manifest schema 0, this codesign reads 1"),
        (json.dumps({**GOOD, "kind": "tpu"}), "unknown kind 'tpu'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "top"}), "key 'top' missing"),
        (json.dumps({"top": "t", "sources": ["t.v"]}), "older codesign; generate the RTL again"),
        (json.dumps({**GOOD, "sources": ["/abs/t.v"]}), "sources must be file names"),
        (json.dumps({**GOOD, "sources": ["u.v"]}), "including top_file"),
        (json.dumps(GOOD), "RTL of kind 'snn', not the 'mvu' expected here"),
    ],
)
def test_a_bad_manifest_is_one_error_naming_it(tmp_path, text, needle):
    folder = tmp_path / "rtl" if text is None else _write(tmp_path / "rtl", text)
    with pytest.raises(CodesignError, match=needle):
        manifest.load(folder, "mvu")


def test_a_generator_cannot_write_a_manifest_outside_the_schema(tmp_path):
    with pytest.raises(CodesignError, match="unknown kind 'gpu'"):
        manifest.make("gpu", "m", "t", ["t.v"])
    with pytest.raises(CodesignError, match="including top_file"):
        manifest.make("snn", "m", "t", ["core.v"])
