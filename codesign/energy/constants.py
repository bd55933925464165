"""45 nm action energies, M. Horowitz, "Computing's energy problem (and what we can do about
it)", ISSCC 2014, 45 nm, 0.9 V (the table in ../shared/REFERENCES.md). Values in pJ."""

HOROWITZ_45NM = {
    "add8": 0.03,
    "mult8": 0.2,
    "add32": 0.1,
    "mult32": 3.1,
    "fadd32": 0.9,
    "fmult32": 3.7,
    # SRAM read of one 64-bit word, by array size (bytes -> pJ)
    "sram64": [(8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0)],
    "dram64_low": 1300.0,
}
SOURCE = "Horowitz, ISSCC 2014, 45 nm 0.9 V"
