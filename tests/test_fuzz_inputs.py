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
