"""Delta activations (arXiv 2107.07305): transmit Δ_t = Q(a_t) − Q(a_{t−1}), accumulate W·Δ_t.

A per-frame quantized front layer feeds a delta encoder (optionally thresholded: small deltas are
not sent and the encoder keeps the last *transmitted* value, so errors do not accumulate); the
consumer keeps S_t = S_{t−1} + W·Δ_t, which equals W·Q(a_t) exactly without a threshold, and only
spends multiply-accumulates on the deltas it receives. Modules: `data` (the sequence task),
`graph` (the network on the one graph), `golden` (integer model), `model` (PyTorch QAT model),
`train`, `rtl` (hw/rtl/delta_*.v benches), `flow` and `cli` (`python -m codesign.delta.cli`).
"""
