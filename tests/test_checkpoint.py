"""A checkpoint is data: a crafted pickle runs no code, and every broken checkpoint is one error
line naming the file, exit 2 (independent oracle: the payload's own side effect)."""

from __future__ import annotations

import os

import pytest
import torch

from codesign import cli
from codesign.models import digits_mlp

PAYLOAD_FILE = "pwned.txt"


class _Payload:
    """Unpickling this object would create a file: what an attacker's checkpoint does."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _stamped(model: str = "digits_mlp", **state) -> dict:
    """A checkpoint dict with the stamps `checkpoint.save` writes, computed here afresh."""
    import hashlib
    import json

    cfg = state.pop("config", {})
    digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
    return {"format": 1, "model": model, "config": cfg, "config_hash": digest, **state}


def _plant(tmp_path, name: str, obj=None, raw: bytes | None = None):
    folder = tmp_path / "digits_mlp"
    folder.mkdir(exist_ok=True)
    if raw is not None:
        (folder / "checkpoint.pt").write_bytes(raw)
    else:
        torch.save(obj, folder / "checkpoint.pt")
    return folder


def test_a_crafted_checkpoint_runs_no_code(tmp_path, monkeypatch, error_line):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    target = tmp_path / PAYLOAD_FILE
    _plant(tmp_path, "x", _stamped(quant=_Payload(str(target))))
    torch.load(tmp_path / "digits_mlp" / "checkpoint.pt", weights_only=False)  # the oracle:
    assert target.exists()  # unpickled the unsafe way, the payload does run
    target.unlink()
    assert cli.main(["export", "digits_mlp"]) == 2
    assert "checkpoint.pt: not a readable checkpoint" in error_line()
    assert not target.exists()


def _torn() -> bytes:
    import io

    buf = io.BytesIO()
    torch.save({"config": {}, "quant": {"w": torch.zeros(4000)}}, buf)
    return buf.getvalue()[:3000]


@pytest.mark.parametrize(
    "obj, raw, named",
    [
        (None, b"", "not a readable checkpoint"),
        (None, b"\x00\x01garbage" * 50, "not a readable checkpoint"),
        (None, _torn(), "not a readable checkpoint"),
        ([1, 2, 3], None, "not a codesign checkpoint (holds list)"),
        ({"config": {}, "quant": {}, "float": {}}, None, "checkpoint format None, this codesign"),
        ({**_stamped(quant={}, float={}), "format": 2}, None, "checkpoint format 2"),
        (_stamped("delay_snn", quant={}, float={}), None, "of model 'delay_snn', not 'digits_mlp'"),
        (
            {**_stamped(quant={}, float={}), "config": {"train": {"seed": 1}}},
            None,
            "settings do not match their config_hash",
        ),
        (_stamped(), None, "checkpoint lacks 'quant'"),
        (
            _stamped(config={"train": {"batch_size": 0}}, quant={}, float={}),
            None,
            "batch_size must be >= 1",
        ),
        (
            _stamped(config=digits_mlp.DEFAULTS, quant={"bogus": torch.zeros(2)}, float={}),
            None,
            "does not fit",
        ),
    ],
)
def test_broken_checkpoints_are_one_line(tmp_path, monkeypatch, error_line, obj, raw, named):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    _plant(tmp_path, "x", obj, raw)
    assert cli.main(["export", "digits_mlp"]) == 2
    line = error_line()
    assert named in line and "digits_mlp" in line


def test_golden_refuses_an_export_older_than_the_checkpoint(
    trained_digits, tmp_path, monkeypatch, error_line
):
    """model.onnx records the checkpoint it was exported from (SHA-256); after a new train,
    golden would compare two different models, so it stops and names the export to run."""
    import shutil

    from codesign import checkpoint

    shutil.copytree(trained_digits, tmp_path / "digits_mlp")
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    ck = tmp_path / "digits_mlp" / "checkpoint.pt"
    saved = checkpoint.load(ck, model="digits_mlp")
    state = {k: saved[k] for k in ("quant", "float")}
    checkpoint.save(ck, "digits_mlp", saved["config"], {**state, "metrics": {"retrained": 1}})
    assert cli.main(["golden", "digits_mlp"]) == 2
    line = error_line()
    assert "model.onnx was built from another checkpoint.pt" in line
    assert "run `codesign export digits_mlp` again" in line
    assert cli.main(["export", "digits_mlp"]) == 0
    assert cli.main(["golden", "digits_mlp"]) == 0
