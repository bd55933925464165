"""A model's settings: its DEFAULTS < flows/<model>.yaml < overrides (`--set`, sweep points).

One merge and one check for every model. Each model declares its defaults (a dict of sections,
each a dict of keys, or a plain value); the type of every default is the key's type, and a few
key-name rules bound the values every training recipe shares. So a misspelt key, a word where a
number belongs, a fractional bit width, a NaN learning rate or a negative epoch count is one
`CodesignError` naming the key, before anything trains or anything already built is replaced.
A flows/<model>.yaml may hold sections the model does not declare (`rtl:` for the hardware
flows, a `model:` name): those are other tools' settings and pass through unchecked.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from typing import Any

from codesign.errors import CodesignError

# key-name rules: (pattern, smallest value, largest value or None)
BOUNDS: list[tuple[str, float, float | None]] = [
    (r".*epochs", 0, None),
    (r"batch_size", 1, None),
    (r".*bits", 1, 32),
    (r"lr.*", 0, None),  # and not 0: see _check
    (r"seed.*", 0, None),
    (r"steps", 1, None),
    (r"n_(train|test)", 1, None),
]


def load(model: str, defaults: dict, overrides: dict | None = None) -> dict:
    """The merged, checked settings of `model` (a new dict; `defaults` is not changed)."""
    from codesign.paths import flow_config

    out = copy.deepcopy(defaults)
    flow = flow_config(model)
    for sec, vals in flow.items():
        if sec == "model" and isinstance(vals, str):
            continue  # the file's own name tag (`model: codenet_tiny`), not a section
        if sec in defaults:
            _merge(out, sec, vals, f"flows/{model}.yaml")
    if not isinstance(overrides or {}, dict):
        raise CodesignError(f"{model}: settings must be a mapping of sections, got {overrides!r}")
    for sec, vals in (overrides or {}).items():
        if sec not in defaults:
            raise CodesignError(
                f"{model}: unknown setting section '{sec}'{_hint(sec, defaults)} "
                f"(sections: {', '.join(sorted(defaults))})"
            )
        _merge(out, sec, vals, model)
    return out


def _merge(out: dict, sec: str, vals: Any, where: str) -> None:
    default = out[sec]
    if not isinstance(default, dict):
        out[sec] = _check(f"{sec}", vals, default, where)
        return
    if not isinstance(vals, dict):
        raise CodesignError(f"{where}: '{sec}' must be a mapping of settings, got {vals!r}")
    for key, v in vals.items():
        if key not in default:
            raise CodesignError(
                f"{where}: unknown setting '{sec}.{key}'{_hint(key, default)} "
                f"(known: {', '.join(sorted(default))})"
            )
        default[key] = _check(f"{sec}.{key}", v, default[key], where)


def _hint(key: str, known: dict) -> str:
    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check(name: str, v: Any, default: Any, where: str) -> Any:
    """`v` in the type of `default`, within the key-name bounds."""

    def bad(what: str) -> CodesignError:
        return CodesignError(f"{where}: {name} must be {what}, got {v!r}")

    if default is None:
        return v
    # kinds taken as they are (bool before int: a bool is an int to isinstance)
    for typ, what in (
        (bool, "true or false"),
        (str, "a string"),
        (dict, "a mapping"),
        (list, "a list"),
    ):
        if isinstance(default, typ):
            if not isinstance(v, typ):
                raise bad(what)
            return v
    if isinstance(default, int):
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad("an integer")
    elif isinstance(default, float):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise bad("a finite number")
        v = float(v)
    leaf = name.rsplit(".", 1)[-1]
    for pattern, lo, hi in BOUNDS:
        if re.fullmatch(pattern, leaf):
            if v < lo or (hi is not None and v > hi) or (pattern == r"lr.*" and v == 0):
                span = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
                raise bad("> 0" if pattern == r"lr.*" else span)
    return v
