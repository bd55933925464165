"""Published energies and ratios next to our closest estimate, with what differs.

Figures from ../shared/REFERENCES.md: SFQ MNIST ~1.5 nJ per inference including cooling
(arXiv 2402.16384, 97.07 %, 8.92 GHz); resistive-memory zero-shot LSM 23.34x / 160x lower energy
than digital baselines (arXiv 2307.00771); SNN energy as SOPs x E_AC against ANN MACs x E_MAC
(E_AC 0.9 pJ, E_MAC 4.6 pJ, the 45 nm convention).
"""

from __future__ import annotations


def compare(model: str, targets: dict[str, dict]) -> list[dict]:
    """Rows {claim, source, paper, ours, differs} for whichever targets this model has."""
    rows: list[dict] = []
    sfq, reram, asic = targets.get("sfq"), targets.get("reram"), targets.get("asic45")
    if sfq and sfq.get("with_cooling_pJ") is not None:
        rows.append(
            {
                "claim": "SFQ MNIST energy per inference incl. cooling",
                "source": "arXiv 2402.16384",
                "paper": "~1.5 nJ (97.07 %, 8.92 GHz)",
                "ours": f"{sfq['with_cooling_pJ'] / 1e3:.2f} nJ ({sfq['total_pJ']:.2f} pJ at 4 K,"
                f" x(1+{sfq['constants']['cryo_factor']['value']:g}) cooling; ERSFQ, dynamic "
                f"only: {sfq['dynamic_with_cooling_pJ'] / 1e3:.4f} nJ)",
                "differs": "our 8x8 digits (not 28x28 MNIST), rate-coded pulse counts of the "
                "golden model on a reduced-activation graph "
                f"({sfq['activity'].get('simulated_graph')}), assumed bias rail and cooling "
                "factor; the paper's circuit is clocked and its network larger",
            }
        )
    if reram and asic:
        ratio = asic["total_pJ"] / reram["total_pJ"]
        rows.append(
            {
                "claim": "ReRAM in-memory computing vs digital, energy ratio",
                "source": "arXiv 2307.00771",
                "paper": "23.34x / 160x lower than digital baselines (LSM reservoir, 40 nm macro)",
                "ours": f"digital/ReRAM = {ratio:.2f}x ({asic['total_pJ']:.0f} pJ vs "
                f"{reram['total_pJ']:.0f} pJ)",
                "differs": "the paper's reservoir weights need no programming or high-resolution "
                "readout and its baselines are GPU/CPU; our dense MLP pays a "
                f"{reram['activity']['adc_bits']}-bit ADC per column digit, which dominates, "
                "against an SRAM-based 45 nm datapath",
            }
        )
    if asic and asic.get("snn_over_ann") is not None:
        rows.append(
            {
                "claim": "SNN vs ANN energy (SOPs x E_AC vs MACs x E_MAC)",
                "source": "SNN literature convention (E_AC 0.9 pJ, E_MAC 4.6 pJ, 45 nm)",
                "paper": "SNN < ANN when spike rates are low (ratio E_AC/E_MAC = 0.20 per op)",
                "ours": f"SNN/ANN = {asic['snn_over_ann']:.2f} "
                f"({asic['total_pJ']:.0f} pJ vs {asic['ann_equivalent_pJ']:.0f} pJ)",
                "differs": "counts only compute; the delay buffers and membrane updates of "
                "every step are not priced, and the ANN equivalent is the same synapses once",
            }
        )
    return rows
