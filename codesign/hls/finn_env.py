"""Make finn-plus importable without Vivado and without the `mip` solver (../shared/TOOLCHAIN.md).

- `finn.builder.build_dataflow_steps` probes Vivado's XSI at import: `finn.xsi.SimEngine = None`
  first.
- `finn.builder.build_dataflow_config` imports `mip` (a 191 MB solver wheel) only for
  multi-FPGA partitioning, which we never use: when `mip` is missing, a stub module with the
  names the config's annotations read stands in; calling anything else in it raises.
- FINN_BUILD_DIR / FINN_SETTINGS point under build/<model>/finn/ so nothing lands in /tmp.
"""

from __future__ import annotations

import enum
import importlib.util
import os
import sys
import types
from pathlib import Path

from codesign.errors import CodesignError


def _mip_stub() -> types.ModuleType:
    mod = types.ModuleType("mip")
    mod.__doc__ = "codesign stub: python-mip is not installed (multi-FPGA partitioning off)"
    mod.CBC, mod.GUROBI, mod.HIGHS = "CBC", "GUROBI", "HIGHS"

    class SearchEmphasis(enum.IntEnum):
        DEFAULT = 0
        FEASIBILITY = 1
        OPTIMALITY = 2

    mod.SearchEmphasis = SearchEmphasis

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)

        def unavailable(*_args, **_kwargs):
            raise CodesignError(f"python-mip is not installed: mip.{name} (multi-FPGA) is off")

        return unavailable

    mod.__getattr__ = __getattr__
    return mod


def prepare_finn(work_dir: Path) -> None:
    """Environment for importing and running finn-plus in this process."""
    if importlib.util.find_spec("finn") is None:
        raise CodesignError(
            "finn-plus is not installed (pip install --no-deps finn-plus==1.6.1, see README)"
        )
    work_dir = Path(work_dir).resolve()
    (work_dir / "tmp").mkdir(parents=True, exist_ok=True)
    os.environ["FINN_BUILD_DIR"] = str(work_dir / "tmp")
    os.environ["FINN_SETTINGS"] = str(work_dir / "finn_settings.yaml")
    if importlib.util.find_spec("mip") is None and "mip" not in sys.modules:
        sys.modules["mip"] = _mip_stub()
    import finn.xsi

    finn.xsi.SimEngine = None
