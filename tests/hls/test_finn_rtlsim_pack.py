"""FINN stream packing and the Verilator fix for add_multi.sv (no simulator needed)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from codesign.hls.finn_rtlsim import pack, patched_add_multi, unpack


@given(
    width=st.integers(2, 24),
    per_word=st.integers(1, 9),
    signed=st.booleans(),
    data=st.data(),
)
def test_pack_unpack_roundtrip(width, per_word, signed, data):
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    vals = data.draw(st.lists(st.integers(lo, hi), min_size=per_word, max_size=per_word * 3))
    vals = vals[: len(vals) // per_word * per_word]
    words = pack(np.array(vals), width, per_word)
    assert unpack(words, width, per_word, signed).tolist() == vals


def test_element_zero_is_lowest():
    assert pack(np.array([1, 2]), 8, 2) == ["201"]


def test_add_multi_patch(tmp_path):
    from pathlib import Path

    import finn

    src = Path(finn.__file__).parent / "finn-rtllib" / "mvu" / "add_multi.sv"
    out = patched_add_multi(src, tmp_path).read_text()
    head, tail = out.split("if(L < 1) begin : genTrivial")
    assert "function leaf_load_t init_leaf_loads();" in head  # now at module level
    assert "function" not in tail
