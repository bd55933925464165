"""Energy of SFQ runs: dynamic = junction switchings x Ic*Phi0; static from bias currents.

Switchings are counted from the simulator's pulse counters: every input pulse a cell takes
switches `SW_IN` junctions and every output pulse it emits `SW_OUT` (the junctions on the
pulse's path; a behavioural assumption per cell type, e.g. a JTL stage 1 + 1 = its 2 JJs, a
splitter 1 + 2x1 = its 3 JJs). E_switch = Ic * Phi0 (REFERENCES.md: 2.07e-19 J at 100 uA).

Static: RSFQ feeds each JJ a bias current b*Ic through resistors from a V_BIAS rail, so
P_static = sum(JJs) * b * Ic * V_BIAS, and an inference costs P_static * its duration.
ERSFQ (energy-efficient RSFQ, inductive biasing) has no static dissipation: 0 here.
A cryocooler overhead factor (W at room temperature per W at 4 K) is reported separately.
"""

from __future__ import annotations

from codesign.sim.sfq.cells import BIAS_FRACTION, CELLS, IC_DEFAULT, PHI0, V_BIAS
from codesign.sim.sfq.engine import Compiled, SimResult

# junctions switched per input pulse / per output pulse (assumed, see module doc)
SW_IN = {
    "JTL": 1,
    "SPL": 1,
    "MRG": 2,
    "DRO": 1,
    "NDRO": 1,
    "TFF": 2,
    "AND": 1,
    "OR": 1,
    "XOR": 1,
    "NOT": 1,
    "XNOR": 1,
    "SYN": 1,
    "IFN": 1,
}
SW_OUT = {
    "JTL": 1,
    "SPL": 1,
    "MRG": 1,
    "DRO": 2,
    "NDRO": 2,
    "TFF": 1,
    "AND": 2,
    "OR": 2,
    "XOR": 2,
    "NOT": 2,
    "XNOR": 2,
    "SYN": 1,
    "IFN": 2,
}
# 4 K cooling overhead in W/W: a large helium plant at 13 % of Carnot at 4.5 K (UKAEA PROCESS
# cryogenic model after Slack et al. 1989: 1 / 2.028e-3; flows/energy/sfq.yaml cites it).
CRYO_FACTOR = 493.0


def switchings(comp: Compiled, res: SimResult) -> dict[str, int]:
    """Junction switchings per cell type for one run."""
    per_cell_in = [0] * len(comp.names)
    for p, n in enumerate(res.pin_events):
        if n:
            per_cell_in[comp.pin_cell[p]] += n
    per_cell_out = [0] * len(comp.names)
    for s, n in enumerate(res.out_pulses):
        if n:
            per_cell_out[comp.slot_cell[s]] += n
    out: dict[str, int] = {}
    for i, c in enumerate(comp.netlist.cells):
        sw = per_cell_in[i] * SW_IN[c.type] + per_cell_out[i] * SW_OUT[c.type]
        if sw:
            out[c.type] = out.get(c.type, 0) + sw
    return out


def synaptic_ops(comp: Compiled, res: SimResult) -> int:
    """Pulses that went through a synapse (one accumulate in the neuron each)."""
    return sum(
        n
        for p, n in enumerate(res.pin_events)
        if n and comp.netlist.cells[comp.pin_cell[p]].type == "SYN"
    )


def energy(
    comp: Compiled,
    res: SimResult,
    duration_ps: float,
    ic: float = IC_DEFAULT,
    biasing: str = "rsfq",
    cryo_factor: float = CRYO_FACTOR,
) -> dict:
    """Energy of one run (J): dynamic, static, total, per synaptic op, and with cooling."""
    if biasing not in ("rsfq", "ersfq"):
        raise ValueError("biasing must be 'rsfq' or 'ersfq'")
    sw = switchings(comp, res)
    n_sw = sum(sw.values())
    e_dyn = n_sw * ic * PHI0
    i_bias = sum(comp.jjs) * BIAS_FRACTION * ic
    p_static = i_bias * V_BIAS if biasing == "rsfq" else 0.0
    e_static = p_static * duration_ps * 1e-12
    total = e_dyn + e_static
    syn = synaptic_ops(comp, res)
    return {
        "switchings": n_sw,
        "switchings_by_cell": sw,
        "switch_energy_J": ic * PHI0,
        "dynamic_J": e_dyn,
        "static_J": e_static,
        "static_power_W": p_static,
        "bias_current_A": i_bias,
        "total_J": total,
        "synaptic_ops": syn,
        "per_synaptic_op_J": total / syn if syn else None,
        "biasing": biasing,
        "cryo_factor": cryo_factor,
        "total_with_cooling_J": total * (1.0 + cryo_factor),
    }


__all__ = ["energy", "switchings", "synaptic_ops", "SW_IN", "SW_OUT", "CELLS"]
