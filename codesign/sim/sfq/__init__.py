"""SFQ pulse-level behavioural simulator: cells, netlists, timing, neuromorphic mapping, energy.

Modules: cells (library), netlist (JSON + checks), engine (event loop), neuro (SYN/IFN),
mapping (IntGraph -> netlist), timing, energy, margins, report, cli (`codesign sfq`).
"""
