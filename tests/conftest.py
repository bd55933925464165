"""Shared fixtures: an isolated build folder and one quickly trained digits_mlp per quantizer."""

from __future__ import annotations

import os

import pytest

QUICK = {"train": {"float_epochs": 12, "qat_epochs": 8}}


@pytest.fixture(scope="session")
def build_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    old = os.environ.get("CODESIGN_BUILD_DIR")
    os.environ["CODESIGN_BUILD_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("CODESIGN_BUILD_DIR", None)
    else:
        os.environ["CODESIGN_BUILD_DIR"] = old


@pytest.fixture(scope="session")
def trained_digits(build_root):
    """digits_mlp trained briefly (W4 POST), exported, golden run: the flow a user runs."""
    from codesign import flow

    flow.train("digits_mlp", QUICK)
    flow.export("digits_mlp")
    flow.golden("digits_mlp")
    return build_root / "digits_mlp"


@pytest.fixture
def error_line(capsys):
    """Reads the one `codesign: error: ...` line a call printed to stderr (asserting it is one)."""

    def read() -> str:
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("codesign: error: "), err
        return err[0]

    return read
