"""45 nm action energies in pJ for `digital.py`, read from `flows/energy/asic45.yaml` (M. Horowitz,
"Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V) so that the
numbers live in one place, with their units and sources."""

from codesign.energy.techfile import Technology, default_dir, load


def horowitz(tech: Technology) -> dict:
    """The action energies (pJ) the 45 nm estimate prices with, from a technology file (the
    shipped one, or a user's `--tech-dir` copy)."""

    def pj(action: str) -> float:
        # round away the float noise of the J <-> pJ conversion (the file holds decimal pJ)
        return round(tech.si(action) * 1e12, 9)

    return {
        **{k: pj(k) for k in ("add8", "mult8", "add32", "mult32", "fadd32", "fmult32")},
        # SRAM read of one 64-bit word, by array size (bytes -> pJ)
        "sram64": [
            (8 * 1024, pj("sram_8KB_read64")),
            (32 * 1024, pj("sram_32KB_read64")),
            (1024 * 1024, pj("sram_1MB_read64")),
        ],
        "dram64_low": pj("dram_read64"),
    }


_ASIC45 = load(default_dir() / "asic45.yaml")
HOROWITZ_45NM = horowitz(_ASIC45)
SOURCE = _ASIC45.actions["mult8"].source
