"""Fuzzing the other loaders of user files: flow settings (YAML/`--set` values), SFQ netlists and
SHD event files. Each mutated input gives a valid result or one CodesignError, never another
exception. `make fuzz` runs many more cases (CODESIGN_FUZZ_EXAMPLES)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import h5py
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.errors import CodesignError

EXAMPLES = int(os.environ.get("CODESIGN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CODESIGN_FUZZ_EXAMPLES") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROOT = Path(__file__).resolve().parents[1]

# values a YAML file or `--set` can hold
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@FUZZ
@given(data=st.data())
def test_settings_are_checked_or_refused_by_name(data):
    from codesign.models import digits_mlp

    defaults = digits_mlp.DEFAULTS
    section = data.draw(st.sampled_from([*sorted(defaults), "nosuch"]))
    keys = sorted(defaults.get(section, {"x": 1}))
    key = data.draw(st.sampled_from([*keys, "wieght_bits"]))
    overrides = {section: {key: data.draw(VALUES)}}
    if data.draw(st.booleans()):
        overrides = data.draw(st.sampled_from([overrides, [overrides], "text", 3]))
    try:
        cfg = digits_mlp.config(overrides)
    except CodesignError as e:
        assert "\n" not in str(e).strip()
        return
    assert isinstance(cfg, dict) and set(cfg) == set(defaults)


def _netlists() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "flows" / "sfq").glob("*.json"))]


NETLISTS = _netlists()


@FUZZ
@given(data=st.data())
def test_netlists_load_and_simulate_or_fail_by_name(data):
    from codesign.sim.sfq.engine import simulate
    from codesign.sim.sfq.netlist import from_dict

    doc = copy.deepcopy(data.draw(st.sampled_from(NETLISTS)))
    for _ in range(data.draw(st.integers(1, 3))):
        cells = doc.get("cells") if isinstance(doc.get("cells"), list) else []
        cell = cells[data.draw(st.integers(0, len(cells) - 1))] if cells else None
        what = data.draw(st.sampled_from(["param", "type", "wire", "drop", "key", "top"]))
        if not isinstance(cell, dict):
            what = "top"
        if what == "param":
            key = data.draw(st.sampled_from(["delay", "setup", "hold", "jjs", "weight", "n_in"]))
            params = cell.setdefault("params", {})
            if isinstance(params, dict):
                params[key] = data.draw(LEAVES)
        elif what == "type":
            cell["type"] = data.draw(st.sampled_from(["JTL", "SPL", "MRG", "DFF", "IFN", "?"]))
        elif what == "wire":
            ports = cell.get("in") or cell.get("out") or {}
            if isinstance(ports, dict) and ports:
                port = data.draw(st.sampled_from(sorted(ports)))
                ports[port] = data.draw(st.sampled_from(["a", "b", "nowhere", "q", 5]))
        elif what == "drop":
            cells.remove(cell)
        elif what == "key":
            cell.pop(data.draw(st.sampled_from(["name", "type", "in", "out"])), None)
        else:
            doc[data.draw(st.sampled_from(["inputs", "outputs", "cells", "version"]))] = data.draw(
                VALUES
            )
    try:
        nl = from_dict(doc, "fuzzed netlist")
        stimuli = {w: [0.0, 30.0] for w in nl.inputs}
        simulate(nl, stimuli, t_max_ps=2000.0)
    except CodesignError as e:
        assert "\n" not in str(e).strip()


ARRAYS = st.one_of(
    st.lists(st.integers(-5, 2000), max_size=5).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.one_of(st.floats(-1, 3), st.just(float("nan"))), max_size=5).map(np.array),
    st.just(np.array(["a", "b"], dtype="S1")),
)


@FUZZ
@given(
    labels=ARRAYS,
    times=st.lists(ARRAYS, min_size=0, max_size=4),
    units=st.lists(ARRAYS, min_size=0, max_size=4),
)
def test_shd_files_load_or_fail_by_name(tmp_path_factory, labels, times, units):
    from codesign.data.spiking import load_shd

    path = tmp_path_factory.mktemp("shd") / "f.h5"
    with h5py.File(path, "w") as f:
        for key, rows in (("spikes/times", times), ("spikes/units", units)):
            if all(r.dtype.kind in "iuf" for r in rows):
                vl = h5py.vlen_dtype(np.float64)
                d = f.create_dataset(key, (len(rows),), dtype=vl)
                for i, r in enumerate(rows):
                    d[i] = r.astype(np.float64)
            else:
                f.create_dataset(key, data=np.array([b"x"] * len(rows), dtype="S1"))
        f.create_dataset("labels", data=labels)
    try:
        x, y = load_shd(path, steps=5, channels=8)
    except CodesignError as e:
        assert "\n" not in str(e).strip()
        return
    assert x.shape == (len(y), 5, 8) and y.dtype == np.int64 and (y >= 0).all()


def _nir_bytes() -> tuple[bytes, list[str]]:
    """A valid NIR file of a small delay network (written by codesign) and its node names."""
    import sys
    import tempfile

    sys.path.insert(0, str(ROOT / "tests" / "snn"))
    from snn_testgraphs import random_dense_graph

    from codesign.snn import nir_io

    graph = random_dense_graph(sizes=(3, 4, 2), steps=4, max_delay=2)
    with tempfile.TemporaryDirectory() as d:
        path = nir_io.save(graph, Path(d) / "m.nir")
        return path.read_bytes(), list(nir_io.to_nir(graph).nodes)


NIR_FILE, NIR_NODES = _nir_bytes()
NIR_VALUES = st.one_of(
    st.just(np.array([np.nan])),
    st.just(np.array([])),
    st.just(np.zeros((2, 2, 2))),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: np.array([v])),
    st.integers(-(10**6), 10**6).map(lambda v: np.full(3, v)),
)


@FUZZ
@given(data=st.data())
def test_nir_files_load_or_fail_by_name(tmp_path_factory, data):
    """Mutated NIR files (a node or edge dropped, a parameter replaced by NaN, an empty or
    wrongly shaped array, metadata damaged, bytes cut or flipped) through `nir_io.load`."""
    import nir

    from codesign.graph.core import Graph
    from codesign.snn import nir_io

    path = tmp_path_factory.mktemp("nir") / "m.nir"
    path.write_bytes(NIR_FILE)
    how = data.draw(st.sampled_from(["node", "edge", "param", "meta", "cut", "flip"]))
    if how in ("cut", "flip"):
        raw = bytearray(NIR_FILE)
        at = data.draw(st.integers(0, len(raw) - 1))
        if how == "cut":
            raw = raw[:at]
        else:
            raw[at] ^= data.draw(st.integers(1, 255))
        path.write_bytes(bytes(raw))
    else:
        g = nir.read(str(path), type_check=False)
        name = data.draw(st.sampled_from(NIR_NODES))
        if how == "node":
            del g.nodes[name]
        elif how == "edge":
            g.edges.pop(data.draw(st.integers(0, len(g.edges) - 1)))
        elif how == "param":
            node = g.nodes[name]
            fields = [k for k, v in vars(node).items() if isinstance(v, np.ndarray)]
            if fields:
                setattr(node, data.draw(st.sampled_from(fields)), data.draw(NIR_VALUES))
        else:
            meta = json.loads(g.metadata["codesign"])
            key = data.draw(st.sampled_from(sorted(meta)))
            meta[key] = data.draw(VALUES)
            g.metadata["codesign"] = json.dumps(meta)
        try:
            nir.write(str(path), g)
        except Exception:  # nir itself cannot write this graph: nothing for us to read
            return
    try:
        graph = nir_io.load(path)
    except CodesignError as e:
        assert "\n" not in str(e).strip()
        return
    assert isinstance(graph, Graph)
