"""45 nm action energies in pJ for `digital.py`, read from `flows/energy/asic45.yaml` (M. Horowitz,
"Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V) so that the
numbers live in one place, with their units and sources."""

from codesign.energy.techfile import default_dir, load

_ASIC45 = load(default_dir() / "asic45.yaml")


def _pj(action: str) -> float:
    # round away the float noise of the J <-> pJ conversion (the file holds decimal pJ values)
    return round(_ASIC45.si(action) * 1e12, 9)


HOROWITZ_45NM = {
    **{k: _pj(k) for k in ("add8", "mult8", "add32", "mult32", "fadd32", "fmult32")},
    # SRAM read of one 64-bit word, by array size (bytes -> pJ)
    "sram64": [
        (8 * 1024, _pj("sram_8KB_read64")),
        (32 * 1024, _pj("sram_32KB_read64")),
        (1024 * 1024, _pj("sram_1MB_read64")),
    ],
    "dram64_low": _pj("dram_read64"),
}
SOURCE = _ASIC45.actions["mult8"].source
