"""Published energies and ratios next to our closest estimate, with what differs.

Figures from ../shared/REFERENCES.md: SFQ MNIST ~1.5 nJ per inference including cooling
(arXiv 2402.16384, 97.07 %, 8.92 GHz); resistive-memory zero-shot LSM 23.34x / 160x lower energy
than digital baselines (arXiv 2307.00771); SNN energy as SOPs x E_AC against ANN MACs x E_MAC
(E_AC 0.9 pJ, E_MAC 4.6 pJ, the 45 nm convention).

Every model gets the rows its targets allow; `closest_model` names the zoo model that is the
fairest comparison for each claim (and `is_closest` whether this is it):
- SFQ MNIST: digits_mlp (image classification, and the only model the SFQ simulator runs);
- resistive LSM: hd_snn (LIF neurons driven by two-polarity event frames through spike-driven
  crossbar reads, as the reservoir on N-MNIST; the lsm_reram flow of `codesign reram` reproduces
  the reservoir itself but is not a zoo model);
- SNN vs ANN: the spiking models.
"""

from __future__ import annotations

CLOSEST = {
    "arXiv 2402.16384": ["digits_mlp"],
    "arXiv 2307.00771": ["hd_snn"],
    "snn": ["delay_snn", "hd_snn"],
}

SFQ_DIFFERS = {
    "dense": "our 8x8 digits (not 28x28 MNIST), rate-coded pulse counts of the golden model on a "
    "reduced-activation graph ({graph}), a typical 2.6 mV bias rail (Volkmann et al. 2013) and "
    "large-plant 4.5 K cooling (sfq.yaml); the paper's circuit is clocked and its network larger",
    "snn": "an activity count, not a pulse simulation, of a spiking network (not MNIST): spikes "
    "through per-input DRO delay lines clocked every time step (clock pulses: {clock:.0%} of the "
    "switchings), splitter trees and bias-set synapses; LIF leak and reset not priced; RSFQ "
    "static bias dominates; a typical 2.6 mV bias rail (Volkmann et al. 2013) and large-plant "
    "4.5 K cooling (sfq.yaml)",
    "codenet": "an activity count of a detection conv net (~0.4 M MACs per frame, not MNIST) "
    "unrolled into millions of junctions with 8-bit activations as up to 255 unary pulses; "
    "static bias over its long pulse trains dominates; deformable routing assumed free; "
    "a typical 2.6 mV bias rail (Volkmann et al. 2013) and large-plant 4.5 K cooling (sfq.yaml)",
}

RERAM_DIFFERS = {
    "dense": "the paper's reservoir weights need no programming or high-resolution readout and "
    "its baselines are GPU/CPU; our dense MLP pays a {adc}-bit ADC per column digit, which "
    "dominates, against an SRAM-based 45 nm datapath",
    "snn": "closest in kind (LIF neurons, spike-driven crossbar reads of event data) but an "
    "activity count, not a simulation; we digitise every column of every tile read with a "
    "{adc}-bit ADC (3 columns per 8-bit weight) to keep the integer LIF exact, and the digital "
    "baseline is SOPs x E_AC (the 45 nm 32-bit convention, compute only), not the paper's "
    "GPU/CPU; the paper's reservoir is random, recurrent and 200 neurons",
    "codenet": "an activity count of a conv net with 8-bit activations (2 DAC pulses each) and a "
    "{adc}-bit ADC per column digit that is not lossless on the measured data (accuracy at "
    "this setting not measured); the digital baseline is MACs x (W4A8 multiply + add), "
    "compute only",
}


def _closest(key: str, model: str) -> dict:
    names = CLOSEST[key]
    return {"closest_model": ", ".join(names), "is_closest": model in names}


def _clock_share(sfq: dict) -> float:
    by = sfq["activity"].get("switchings_by_kind") or {}
    total = sum(by.values())
    return by.get("clock", 0.0) / total if total else 0.0


def compare(model: str, targets: dict[str, dict], kind: str | None = None) -> list[dict]:
    """Rows {claim, source, paper, ours, differs, closest_model, is_closest, basis} for
    whichever targets this model has."""
    kind = kind or "dense"
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
                "differs": SFQ_DIFFERS.get(kind, SFQ_DIFFERS["dense"]).format(
                    graph=sfq["activity"].get("simulated_graph"), clock=_clock_share(sfq)
                ),
                **_closest("arXiv 2402.16384", model),
                "basis": sfq.get("basis"),
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
                "differs": RERAM_DIFFERS.get(kind, RERAM_DIFFERS["dense"]).format(
                    adc=reram["activity"]["adc_bits"]
                ),
                **_closest("arXiv 2307.00771", model),
                "basis": reram.get("basis"),
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
                **_closest("snn", model),
                "basis": asic.get("basis"),
            }
        )
    return rows
