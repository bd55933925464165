"""Technology files (`flows/energy/<name>.yaml`): per-action constants with units and sources.

Why data and not code: every constant must carry its unit and source so a report can cite it,
and a user adds a technology by adding a file. A file names a `kind` (digital, fpga, reram,
sfq); the kind fixes which actions exist and what each one measures (energy, power, ...), so a
misspelt action, a missing unit, a unit of the wrong dimension or a negative value is an error
naming the file and the key. Values are returned in SI units (J, W, A, V, Wb, Hz, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from codesign.errors import CodesignError

# unit -> (dimension, factor to SI)
UNITS: dict[str, tuple[str, float]] = {
    "J": ("energy", 1.0),
    "nJ": ("energy", 1e-9),
    "pJ": ("energy", 1e-12),
    "fJ": ("energy", 1e-15),
    "W": ("power", 1.0),
    "mW": ("power", 1e-3),
    "uW": ("power", 1e-6),
    "A": ("current", 1.0),
    "mA": ("current", 1e-3),
    "uA": ("current", 1e-6),
    "V": ("voltage", 1.0),
    "mV": ("voltage", 1e-3),
    "Wb": ("flux", 1.0),
    "Hz": ("frequency", 1.0),
    "MHz": ("frequency", 1e6),
    "GHz": ("frequency", 1e9),
    "1": ("ratio", 1.0),
    "W/W": ("ratio", 1.0),
}

# kind -> action -> dimension. Every action of the kind must be present.
KINDS: dict[str, dict[str, str]] = {
    "digital": {
        "add8": "energy",
        "mult8": "energy",
        "add32": "energy",
        "mult32": "energy",
        "fadd32": "energy",
        "fmult32": "energy",
        "sram_8KB_read64": "energy",
        "sram_32KB_read64": "energy",
        "sram_1MB_read64": "energy",
        "dram_read64": "energy",
        "snn_e_mac": "energy",
        "snn_e_ac": "energy",
        "clock": "frequency",
    },
    "fpga": {
        "lut_toggle": "energy",
        "ff_toggle": "energy",
        "carry4_toggle": "energy",
        "dsp_op": "energy",
        "bram_read": "energy",
        "static_power": "power",
        "clock": "frequency",
    },
    "reram": {
        "adc_8bit_conversion": "energy",
        "dac_1bit_conversion": "energy",
        "shift_add": "energy",
        "requant_mult32": "energy",
        "requant_add32": "energy",
    },
    "sfq": {
        "phi0": "flux",
        "ic": "current",
        "bias_fraction": "ratio",
        "v_bias": "voltage",
        "cryo_factor": "ratio",
    },
}


@dataclass(frozen=True)
class Constant:
    """One action constant: SI value, the unit it was written in, its source."""

    value: float
    unit: str
    source: str
    assumed: bool


@dataclass(frozen=True)
class Technology:
    name: str
    kind: str
    description: str
    actions: dict[str, Constant]
    path: str

    def si(self, action: str) -> float:
        """The action's value in SI units."""
        return self.actions[action].value

    def citations(self) -> dict[str, dict]:
        """{action: {value, unit, source, assumed}} for reports (value in the file's unit)."""
        return {
            k: {
                "value": c.value / UNITS[c.unit][1],
                "unit": c.unit,
                "source": c.source,
                "assumed": c.assumed,
            }
            for k, c in self.actions.items()
        }


def default_dir() -> Path:
    """flows/energy/ of the repository."""
    return Path(__file__).resolve().parents[2] / "flows" / "energy"


def parse(data: object, where: str) -> Technology:
    """Validate one technology mapping; every error names `where` and the key at fault."""
    if not isinstance(data, dict):
        raise CodesignError(f"{where}: a technology file must be a mapping")
    for key in ("technology", "kind", "actions"):
        if key not in data:
            raise CodesignError(f"{where}: missing key '{key}'")
    kind = data["kind"]
    if kind not in KINDS:
        raise CodesignError(f"{where}: kind '{kind}' unknown (known: {', '.join(KINDS)})")
    schema = KINDS[kind]
    acts = data["actions"]
    if not isinstance(acts, dict):
        raise CodesignError(f"{where}: 'actions' must be a mapping")
    out: dict[str, Constant] = {}
    for name, entry in acts.items():
        key = f"{where}: actions.{name}"
        if name not in schema:
            raise CodesignError(
                f"{key}: unknown action for kind '{kind}' (known: {sorted(schema)})"
            )
        if not isinstance(entry, dict):
            raise CodesignError(f"{key}: must be a mapping with value, unit, source")
        for field in ("value", "unit", "source"):
            if field not in entry or entry[field] in (None, ""):
                raise CodesignError(f"{key}.{field}: missing")
        val, unit = entry["value"], str(entry["unit"])
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise CodesignError(f"{key}.value: {val!r} is not a number")
        if val < 0:
            raise CodesignError(f"{key}.value: negative ({val})")
        if unit not in UNITS:
            raise CodesignError(f"{key}.unit: '{unit}' unknown (known: {', '.join(UNITS)})")
        dim, factor = UNITS[unit]
        if dim != schema[name]:
            raise CodesignError(f"{key}.unit: '{unit}' is a {dim}, expected a {schema[name]}")
        extra = set(entry) - {"value", "unit", "source", "assumed"}
        if extra:
            raise CodesignError(f"{key}: unknown field(s) {sorted(extra)}")
        out[name] = Constant(
            float(val) * factor, unit, str(entry["source"]), bool(entry.get("assumed", False))
        )
    missing = sorted(set(schema) - set(out))
    if missing:
        raise CodesignError(f"{where}: actions.{missing[0]}: missing (kind '{kind}' needs it)")
    return Technology(str(data["technology"]), kind, str(data.get("description", "")), out, where)


def load(path: Path | str) -> Technology:
    """Read and validate one technology file."""
    p = Path(path)
    if not p.is_file():
        raise CodesignError(f"technology file {p} not found")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise CodesignError(f"{p}: not valid YAML ({e})") from None
    return parse(data, str(p))


def load_all(directory: Path | str | None = None) -> dict[str, Technology]:
    """Every `*.yaml` under `directory` (default flows/energy/), keyed by technology name."""
    d = Path(directory) if directory is not None else default_dir()
    techs: dict[str, Technology] = {}
    for p in sorted(d.glob("*.yaml")):
        t = load(p)
        if t.name in techs:
            raise CodesignError(f"{p}: technology '{t.name}' also defined in {techs[t.name].path}")
        techs[t.name] = t
    return techs
