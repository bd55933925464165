"""Neuromorphic SFQ cells (behavioural): the bias-weighted synapse SYN and the IF neuron IFN.

Modelled on the rate-coded SFQ synapse and neuron of Karamuftuoglu, Krylov, Edwards and
Friedman (arXiv 2311.10721): weights and neuron thresholds are set by bias currents, values
are pulse counts (rates over a window), inhibition is a pulse of the opposite polarity.

Units. A neuron integrates *loop current* in integer units of dI (the current one flux quantum
adds to the integration loop of inductance L: dI = Phi0 / L; 1 unit = 20.7 uA for L = 100 pH).

SYN (ports p, n -> qp, qn; 4 JJs assumed, 3 ps delay assumed)
    `weight` w (signed integer, units of dI): the bias current of the synapse's coupling
    branch sets how much current each passing fluxon injects into the neuron loop,
    |w| * dI; w < 0 couples with opposite polarity (inhibitory). A pulse on p is a +1 token,
    a pulse on n a -1 token (a retraction, see IFN); the synapse routes p -> qp, n -> qn and
    the neuron input driven by qp adds +w, by qn adds -w. A SYN output may only feed an IFN.
    Relative to the neuron threshold, w/threshold is the pulse-rate gain of the connection:
    w < threshold passes a fraction of the input rate, w > threshold multiplies it.

IFN (inputs i0..i{n_in-1}, outputs qp, qn; 6 + n_in JJs assumed, 6 ps delay assumed)
    `threshold` (units of dI): escape-junction critical current minus its bias,
    (Ic - I_b) / dI, i.e. how many units the loop must store before the neuron fires.
    `preload` (units): flux stored at power-up by the neuron's bias line (the layer bias).
    `lo`, `hi`: bounds of the net output count (hi: saturation of the output stage; lo < 0
    allows a signed output). `refractory` (ps): minimum spacing of output pulses.
    `rounding`: floor (plain IF: fire when the loop holds >= threshold, reset by subtraction),
    half_up (an extra half-threshold bias offset), half_even (as half_up, with the tie decided by
    the parity of the output count, which a T flip-flop on the output holds).
    Firing rule, with u the stored units and F the net output count so far:
    fire qp (F += 1, u -= threshold) while F < hi and u is at/above the upper threshold;
    fire qn (F -= 1, u += threshold) while F > lo and u is below the lower threshold.
    So the net count on qp - qn is always clamp(round(total / threshold), lo, hi) whatever the
    order in which excitatory and inhibitory pulses arrive: a pulse fired too early is taken
    back by a qn pulse (delta coding). That is what makes the mapping bit-exact.

Bias dependence (used by the margin sweep; beta = global bias scale):
    weights and preloads are currents from the bias network, so they scale with beta;
    threshold(beta) = threshold * (1 - b_n*beta) / (1 - b_n), b_n = neuron escape-junction bias
    fraction (param `bias_fraction_n`, default 0.5, an assumption).
"""

from __future__ import annotations

NEURON_BIAS_FRACTION = 0.5  # assumed escape-junction bias fraction of the IFN (see above)


def scale_weight(w: int, beta: float, params: dict) -> int:
    """A synaptic weight (bias-set current) at global bias scale beta."""
    if beta == 1.0:
        return int(w)
    return int(round(w * beta))


def scale_for_bias(
    threshold: int, preload: int, gain: int, beta: float, params: dict
) -> tuple[int, int, int]:
    """(threshold, preload, gain) of a neuron at bias scale beta; identity at beta = 1."""
    if threshold < 1:
        raise ValueError("IFN threshold must be >= 1")
    if beta == 1.0:
        return int(threshold), int(preload), int(gain)
    bn = float(params.get("bias_fraction_n", NEURON_BIAS_FRACTION))
    f = (1.0 - bn * beta) / (1.0 - bn)
    thr = max(1, int(round(threshold * f)))
    return thr, int(round(preload * beta)), scale_weight(gain, beta, params)
