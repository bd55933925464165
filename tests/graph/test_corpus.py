"""The external QONNX corpus builds, runs under qonnx's own executor, and is reproducible."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from codesign.errors import CodesignError
from codesign.graph import corpus

CHEAP = ("tfc_w1a1", "cnv_w2a2", "brevitas_mlp", "brevitas_lenet")
N_INPUTS = 4


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return {name: corpus.build(name, folder) for name in CHEAP}


def _run(path, x):
    """Execute one input at a time (the exported graphs have batch 1); full context kept."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model = ModelWrapper(str(path))
    iname, oname = model.graph.input[0].name, model.graph.output[0].name
    return model, [execute_onnx(model, {iname: x[i : i + 1]}, True) for i in range(len(x))], oname


def test_names():
    assert len(corpus.NAMES) == 15 and len(set(corpus.NAMES)) == 15
    assert set(CHEAP) <= set(corpus.NAMES)
    with pytest.raises(CodesignError):
        corpus.sample_inputs("resnet50", 1)


@pytest.mark.parametrize("name", CHEAP)
def test_built_model_runs_in_qonnx(built, name):
    path = built[name]
    assert path.name == f"{name}.onnx" and path.is_file()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    x = corpus.sample_inputs(name, N_INPUTS)
    assert x.dtype == np.float32 and x.shape == (N_INPUTS, *corpus.input_shape(name)[1:])
    model, contexts, oname = _run(path, x)
    assert model.get_tensor_shape(model.graph.input[0].name) == list(corpus.input_shape(name))
    out = np.concatenate([ctx[oname] for ctx in contexts])
    assert out.shape == (N_INPUTS, 10)
    assert np.isfinite(out).all()
    assert len({row.tobytes() for row in out}) > 1, "outputs identical across inputs"
    # Every activation quantizer (data input, not an initializer) emits more than one value.
    inits = {t.name for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type in ("Quant", "BipolarQuant") and node.input[0] not in inits:
            values = np.concatenate([ctx[node.output[0]].ravel() for ctx in contexts])
            assert len(np.unique(values)) > 1, f"{name}: {node.name} is constant"


@pytest.mark.parametrize("name", ("tfc_w1a1", "brevitas_mlp"))
def test_build_is_byte_reproducible(built, tmp_path, name):
    again = corpus.build(name, tmp_path)
    assert again.read_bytes() == built[name].read_bytes()


def test_sample_inputs_cycle_and_range():
    x = corpus.sample_inputs("brevitas_lenet", 2000)
    assert x.shape == (2000, 1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    n_test = len(np.unique(x.reshape(2000, -1), axis=0))
    assert n_test < 2000  # the test half is smaller: it cycles
    np.testing.assert_array_equal(x[:7], corpus.sample_inputs("brevitas_lenet", 7))
    assert corpus.sample_inputs("cnv_w1a1", 2).shape == (2, 3, 32, 32)
    assert corpus.sample_inputs("sfc_w1a2", 2).shape == (2, 1, 28, 28)


def test_qonnx_data_models():
    found = corpus.qonnx_data_models()
    assert {"espcn_subpixel", "espcn_nn_resize", "eltwise_chanlast", "fp8_gemm"} <= set(found)
    quant_ops = {"Quant", "BipolarQuant", "FloatQuant", "MultiThreshold"}
    for path in found.values():
        assert path.is_file()
        ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
        assert ops & quant_ops


@pytest.mark.parametrize("name", ("cnv_w2a2", "brevitas_lenet"))
def test_onnxruntime_form_equals_qonnx(built, name):
    """benchmarks/golden_speed.py's onnxruntime side: the quantizers folded to plain ONNX (narrow
    activation ranges, batch-free Reshape targets) compute what qonnx's executor computes."""
    import onnxruntime as ort

    from codesign.graph.frontends import qonnx as frontend
    from codesign.ir.to_onnxruntime import to_onnxruntime

    x = corpus.sample_inputs(name, N_INPUTS)
    _, contexts, oname = _run(built[name], x)
    want = np.concatenate([ctx[oname] for ctx in contexts])
    plain = to_onnxruntime(frontend.normalise(frontend.load(built[name])).model)
    sess = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]  # all inputs in one batch
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
