"""SFQ cell library: ports, JJ count, delay, setup/hold windows and bias per cell type.

The simulator treats every cell as a tiny state machine; this module only holds the static
facts about each type so the engine, the netlist checker, the timing analysis and the energy
model all read the same numbers.

Sources of the defaults (times in ps):
- PyLSE (UCSBarchlab/PyLSE, PLDI 2022), `pylse/sfq_cells.py`, as tabulated in
  shared/REFERENCES.md: JJs / firing delay / setup / hold-or-busy.
  JTL 2/5.7/-/0; splitter 3/4.3/-/4.3; merger 7/8.2/-/8.2; DRO 6/5.1/2.3/0;
  DRO_SR 13/5.1/1.2/0; AND 11/9.2/2.8/3.0; OR 12/8.0/5.8/0; XOR 11/6.5/3.7/4.1;
  XNOR 15/6.5/3.7/0; NOT (clocked INV) 10/9.6/1.2/5.0.
- NDRO and T flip-flop are not in PyLSE. NDRO borrows DRO_SR's numbers (same set/reset/clk
  structure, a non-destructive read adds no input-side timing); TFF uses DRO's delay and 6 JJs
  (a two-junction storing loop plus buffers). Both are marked `assumed` below.
- SYN and IFN (neuromorphic) are behavioural models of the synapse/neuron of Karamuftuoglu,
  Krylov, Edwards and Friedman (arXiv 2311.10721); their JJ counts and delays are assumptions
  of this project (see `neuro.py`), not published figures.

Bias: every JJ is biased at `BIAS_FRACTION` of its critical current (0.7 Ic is the usual RSFQ
design point; an assumption, not from the references). The bias window of a cell under a
global bias scale beta follows from that in `bias_window`.
"""

from __future__ import annotations

from dataclasses import dataclass

from codesign.errors import CodesignError

# Magnetic flux quantum h/2e in Wb (CODATA 2018 exact value; REFERENCES.md: 2.0678e-15).
PHI0 = 2.067833848e-15
# Default critical current of one junction, A (REFERENCES.md: Ic*Phi0 = 2.07e-19 J at 100 uA).
IC_DEFAULT = 100e-6
# Bias current of a junction as a fraction of Ic: RSFQlib (ColdFlux) cells use BiasCoef = 0.7.
BIAS_FRACTION = 0.7
# Current a passing fluxon adds to a junction, as a fraction of Ic (assumed); with the bias it
# must reach Ic for the junction to switch, which sets the lower edge of the bias window.
DRIVE_FRACTION = 0.5
# RSFQ bias-network voltage, V: "typical bias voltages employed by RSFQ logic (Vb ~ 2.6 mV)"
# (Volkmann et al., Supercond. Sci. Technol. 26, 015002, 2013, sec. 2.1); P = I_bias * V_bias.
V_BIAS = 2.6e-3


@dataclass(frozen=True)
class CellType:
    """Static facts of one cell type; times in ps, `code` is the engine's dispatch number."""

    name: str
    code: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    jjs: int
    delay: float
    setup: float  # an input this long before a clock pulse is a violation (clocked cells)
    hold: float  # any input this long after a transition is a violation (busy window)
    clocked: bool
    source: str
    doc: str


def _c(name, code, ins, outs, jjs, delay, setup, hold, clocked, source, doc) -> CellType:
    return CellType(
        name, code, tuple(ins), tuple(outs), jjs, delay, setup, hold, clocked, source, doc
    )


_PYLSE = "PyLSE sfq_cells.py via REFERENCES.md"
CELLS: dict[str, CellType] = {
    c.name: c
    for c in [
        _c("JTL", 0, ["a"], ["q"], 2, 5.7, 0.0, 0.0, False, _PYLSE, "pass a pulse on"),
        _c(
            "SPL",
            1,
            ["a"],
            ["q0", "q1"],
            3,
            4.3,
            0.0,
            4.3,
            False,
            _PYLSE,
            "splitter: one pulse in, one pulse on each output",
        ),
        _c(
            "MRG",
            2,
            ["a", "b"],
            ["q"],
            7,
            8.2,
            0.0,
            8.2,
            False,
            _PYLSE,
            "merger: any input pulse goes out; a second one inside the busy window is lost",
        ),
        _c(
            "DRO",
            3,
            ["a", "clk"],
            ["q"],
            6,
            5.1,
            2.3,
            0.0,
            True,
            _PYLSE,
            "D flip-flop: store a pulse, clk releases it (destructive read)",
        ),
        _c(
            "NDRO",
            4,
            ["set", "rst", "clk"],
            ["q"],
            13,
            5.1,
            1.2,
            0.0,
            True,
            "assumed (DRO_SR numbers from PyLSE)",
            "non-destructive read-out: set stores, rst clears, clk reads without clearing",
        ),
        _c(
            "TFF",
            5,
            ["a"],
            ["q"],
            6,
            5.1,
            0.0,
            0.0,
            False,
            "assumed (DRO delay)",
            "T flip-flop: toggles on each input; outputs a pulse on every second input",
        ),
        _c("AND", 6, ["a", "b", "clk"], ["q"], 11, 9.2, 2.8, 3.0, True, _PYLSE, "clocked AND"),
        _c("OR", 7, ["a", "b", "clk"], ["q"], 12, 8.0, 5.8, 0.0, True, _PYLSE, "clocked OR"),
        _c("XOR", 8, ["a", "b", "clk"], ["q"], 11, 6.5, 3.7, 4.1, True, _PYLSE, "clocked XOR"),
        _c(
            "NOT",
            9,
            ["a", "clk"],
            ["q"],
            10,
            9.6,
            1.2,
            5.0,
            True,
            _PYLSE,
            "clocked inverter: clk fires q unless a arrived since the last clk",
        ),
        _c("XNOR", 10, ["a", "b", "clk"], ["q"], 15, 6.5, 3.7, 0.0, True, _PYLSE, "clocked XNOR"),
        _c(
            "SYN",
            11,
            ["p", "n"],
            ["qp", "qn"],
            4,
            3.0,
            0.0,
            0.0,
            False,
            "assumed (behavioural, arXiv 2311.10721)",
            "synapse: passes +/- pulses to a neuron input, each carrying the bias-set weight",
        ),
        _c(
            "IFN",
            12,
            [],
            ["qp", "qn"],
            6,
            6.0,
            0.0,
            0.0,
            False,
            "assumed (behavioural, arXiv 2311.10721)",
            "integrate-and-fire neuron with inputs i0..i{n-1}; +/- output rails",
        ),
    ]
}
CODES = {c.code: c for c in CELLS.values()}
IFN_JJS_PER_INPUT = 1  # one isolating junction per neuron input branch (assumption)


def cell_type(name: str, cell: str = "?") -> CellType:
    """Look up a cell type; an unknown one is a CodesignError naming the cell."""
    try:
        return CELLS[name]
    except KeyError:
        raise CodesignError(
            f"cell {cell!r}: unknown cell type {name!r} (known: {', '.join(CELLS)})"
        ) from None


def input_ports(ct: CellType, params: dict) -> tuple[str, ...]:
    """Input port names; IFN has a variable number set by params['n_in']."""
    if ct.name == "IFN":
        return tuple(f"i{k}" for k in range(int(params.get("n_in", 0))))
    return ct.inputs


def cell_jjs(ct: CellType, params: dict) -> int:
    """JJ count of one instance (IFN grows with its fan-in); params['jjs'] overrides."""
    if "jjs" in params:
        return int(params["jjs"])
    if ct.name == "IFN":
        return ct.jjs + IFN_JJS_PER_INPUT * int(params.get("n_in", 0))
    return ct.jjs


def bias_window(params: dict | None = None) -> tuple[float, float]:
    """Global bias scale range [lo, hi] where a cell works (behavioural assumption).

    A junction biased at b*Ic switches spontaneously once beta*b >= 1 (upper edge) and no
    longer switches on an incoming fluxon once beta*b + drive < 1 (lower edge).
    With b = 0.7, drive = 0.5: [0.714, 1.429].
    """
    params = params or {}
    b = float(params.get("bias_fraction", BIAS_FRACTION))
    drive = float(params.get("drive_fraction", DRIVE_FRACTION))
    return (1.0 - drive) / b, 1.0 / b
