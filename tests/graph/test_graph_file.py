"""The one graph file (codesign/graph/onnx_file.py): a damaged or hand-edited file is one
error naming what is wrong, never a traceback or a graph the executor would run wrongly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from codesign.errors import CodesignError
from codesign.graph import onnx_file

sys.path.insert(0, str(Path(__file__).parents[1] / "snn"))  # the SNN tests' graph builders
from snn_testgraphs import hand_snn_graph as _graph  # noqa: E402


def _edit(tmp_path, change) -> str:
    path = onnx_file.save(_graph(), tmp_path / "m.onnx")
    m = onnx.load(str(path))
    change(m)
    onnx.save(m, str(path))
    with pytest.raises(CodesignError) as e:
        onnx_file.load(path)
    return str(e.value)


def _set_attrs(m, node: str, attrs: dict) -> None:
    n = next(n for n in m.graph.node if n.name == node)
    a = next(a for a in n.attribute if a.name == "attrs")
    a.s = json.dumps(attrs).encode()


def test_round_trip_is_equal(tmp_path):
    g = _graph()
    assert onnx_file.differences(g, onnx_file.load(onnx_file.save(g, tmp_path / "m.onnx"))) == []


def test_an_infinite_attr_names_the_node(tmp_path):
    attrs = {"leak_shift": 1, "spiking": True, "v_bits": float("inf")}
    msg = _edit(tmp_path, lambda m: _set_attrs(m, "fc0", attrs))
    assert "node 'fc0' (LIF)" in msg


def test_a_file_without_outputs_is_refused(tmp_path):
    assert "one input and an output" in _edit(tmp_path, lambda m: m.graph.ClearField("output"))


def test_ranges_beyond_int64_are_refused_on_load(tmp_path):
    """Weights and stored ranges edited together: the executor's int64 would wrap."""

    def huge(m):
        w = next(t for t in m.graph.initializer if t.name == "fc0.current::weight")
        big = np.full(onnx.numpy_helper.to_array(w).shape, 2**61, dtype=np.int64)
        w.CopyFrom(onnx.numpy_helper.from_array(big, w.name))
        doc = json.loads(m.metadata_props[0].value)
        cur = doc["tensors"]["fc0.current"]
        cur["range"] = [str(-(2**62)), str(2**62)]  # whatever: the op's own bound is checked
        m.metadata_props[0].value = json.dumps(doc)

    assert "beyond the golden model's int64" in _edit(tmp_path, huge)
