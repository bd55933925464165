"""NIR (Delay / LIF primitives) and graph-file round trips; the graph file executed by qonnx
equals the golden model; bad files give named errors."""

from __future__ import annotations

import nir
import numpy as np
import onnx
import pytest
from snn_testgraphs import layers, random_spikes

from codesign.errors import CodesignError
from codesign.graph import onnx_file
from codesign.graph.onnx_file import DOMAIN
from codesign.graph.qonnx_ops import run_with_qonnx
from codesign.snn import golden, nir_io


@pytest.mark.parametrize("graph_name", ["dense_graph", "hd_graph"])
def test_nir_round_trip(graph_name, request, tmp_path):
    graph = request.getfixturevalue(graph_name)
    path = nir_io.save(graph, tmp_path / "m.nir")
    g = nir.read(str(path), type_check=False)
    kinds = {type(n).__name__ for n in g.nodes.values()}
    assert "Delay" in kinds and ("LIF" in kinds)
    assert onnx_file.differences(graph, nir_io.load(path)) == []


def test_nir_lif_parameters_are_the_shift_leak(dense_graph):
    g = nir_io.to_nir(dense_graph)
    lif = g.nodes["fc1"]
    assert isinstance(lif, nir.LIF)
    fc0, fc1 = layers(dense_graph)[:2]
    k = fc1.leak_shift
    assert np.all(lif.tau == 2**k) and np.all(lif.r == 2**k) and np.all(lif.v_leak == 0)
    assert np.array_equal(lif.v_threshold + 0.5, fc1.threshold)
    assert isinstance(g.nodes["fc2"], nir.LI)
    delays = sorted(int(n.delay.flat[0]) for k, n in g.nodes.items() if k.startswith("fc0.delay"))
    assert delays == sorted(set(np.nonzero(fc0.weight)[2].tolist()))


@pytest.mark.parametrize("graph_name", ["dense_graph", "hd_graph"])
def test_graph_file_round_trip_and_qonnx_execution(graph_name, request, tmp_path):
    graph = request.getfixturevalue(graph_name)
    path = onnx_file.save(graph, tmp_path / "m.onnx")
    model = onnx.load(str(path))
    ops = {(n.domain, n.op_type) for n in model.graph.node}
    assert (DOMAIN, "Delay") in ops and (DOMAIN, "LIF") in ops
    back = onnx_file.load(path)
    assert onnx_file.differences(graph, back) == [] and back.meta["family"] == "snn"
    x = random_spikes(graph, 3)
    ref = golden.run(graph, x)
    out = run_with_qonnx(path, x)  # the file's wiring, through qonnx's executor
    assert np.array_equal(out["scores"], ref["scores"])
    for lay in layers(graph):
        for key in (lay.name, f"{lay.name}.v"):
            assert np.array_equal(np.moveaxis(out[key], -1, 1), ref[key])


def test_qonnx_infer_shapes_knows_the_ops(dense_graph, tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    m = ModelWrapper(str(onnx_file.save(dense_graph, tmp_path / "m.onnx")))
    m = m.transform(InferShapes()).transform(InferDataTypes())
    assert m.get_tensor_shape("fc1.current") == [1, 6, 20]  # (batch, channels, steps)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(CodesignError, match="no graph file"):
        onnx_file.load(tmp_path / "none.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(CodesignError, match="malformed ONNX"):
        onnx_file.load(tmp_path / "junk.onnx")
    (tmp_path / "junk.nir").write_text("x")
    with pytest.raises(CodesignError, match="malformed NIR"):
        nir_io.load(tmp_path / "junk.nir")


def test_wrong_input_shape_is_named(dense_graph):
    with pytest.raises(CodesignError, match="expects input"):
        golden.run(dense_graph, np.zeros((2, 3, 5), np.uint8))


def test_a_wrong_weight_in_the_nir_file_is_named_by_node_index_and_both_values(
    dense_graph, tmp_path, monkeypatch
):
    """Planted fault on the implementation side: the NIR writer puts one synapse weight one
    unit off. Reading the file back and comparing it with the graph (what `export` does before
    the file replaces the old one) names the node, the param, the index and both values."""
    fc0 = layers(dense_graph)[0]
    o, i = (int(v) for v in np.argwhere(fc0.weight[:, :, 0] != 0)[0])  # a delay-0 synapse
    real = nir_io.to_nir

    def planted(graph):
        g = real(graph)
        g.nodes["fc0.w0"].weight[o, i] += 1
        return g

    monkeypatch.setattr(nir_io, "to_nir", planted)
    back = nir_io.load(nir_io.save(dense_graph, tmp_path / "m.nir"))
    diffs = onnx_file.differences(dense_graph, back)
    assert len(diffs) == 1 and diffs[0].startswith("fc0.current: param weight at ")
    w = int(fc0.weight[o, i, 0])
    assert f"[{o}, {i}, 0]: {w} != {w + 1}" in diffs[0], diffs


def test_a_negative_delay_or_a_short_bias_in_a_nir_file_is_refused_by_node(
    dense_graph, tmp_path, monkeypatch
):
    """A NIR Delay of -1 once landed silently in the last delay slot, and a bias of one value
    was broadcast to every neuron: each is now one error naming the node."""
    real = nir_io.to_nir

    def negative(graph):
        g = real(graph)
        g.nodes["fc0.delay1"].delay = np.array([-1.0])
        return g

    def short_bias(graph):
        g = real(graph)
        g.nodes["fc0.w0"].bias = np.array([1.0])
        return g

    for plant, named in ((negative, "'fc0.w1'"), (short_bias, "'fc0.w0': bias shape")):
        monkeypatch.setattr(nir_io, "to_nir", plant)
        with pytest.raises(CodesignError, match=named):
            nir_io.load(nir_io.save(dense_graph, tmp_path / "m.nir"))
