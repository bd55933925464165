"""One briefly trained ASQ + POST (3-bit) digits_mlp per test process, shared by tests/quant and
tests/hw.

Trained, exported and run through the golden model in its own temporary build root, so it never
replaces the `trained_digits` fixture's model (both are called digits_mlp).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ASQ_QUICK = {
    "quant": {"act_quant": "asq", "weight_quant": "post", "weight_bits": 3, "act_bits": 3},
    "train": {"float_epochs": 6, "qat_epochs": 4},
}
_done: dict[str, Path] = {}


def trained_asq() -> Path:
    """build/digits_mlp of the ASQ model (checkpoint, onnx/, golden/, reports/)."""
    if "dir" not in _done:
        from codesign import flow

        root = Path(tempfile.mkdtemp(prefix="asq_build_"))
        atexit.register(shutil.rmtree, root, True)
        old = os.environ.get("CODESIGN_BUILD_DIR")
        os.environ["CODESIGN_BUILD_DIR"] = str(root)
        try:
            flow.train("digits_mlp", ASQ_QUICK)
            flow.export("digits_mlp")
            flow.golden("digits_mlp")
        finally:
            if old is None:
                os.environ.pop("CODESIGN_BUILD_DIR", None)
            else:
                os.environ["CODESIGN_BUILD_DIR"] = old
        _done["dir"] = root / "digits_mlp"
    return _done["dir"]
