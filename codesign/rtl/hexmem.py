"""Pack integer tables into $readmemh files: one word per line, lane 0 in the low bits."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path


def to_unsigned(v: int, bits: int) -> int:
    """Two's complement of v in `bits` bits; the value must fit (signed or unsigned range)."""
    v = int(v)
    if not -(1 << (bits - 1)) <= v < (1 << bits):
        raise ValueError(f"value {v} does not fit {bits} bits")
    return v & ((1 << bits) - 1)


def pack_word(lanes: Sequence[int], bits: int) -> int:
    """Concatenate lanes, lane 0 in bits [bits-1:0]."""
    word = 0
    for i, v in enumerate(lanes):
        word |= to_unsigned(v, bits) << (i * bits)
    return word


def hex_lines(words: Iterable[int], width: int) -> str:
    digits = max(1, (width + 3) // 4)
    return "".join(f"{w:0{digits}x}\n" for w in words)


def write_hex(path: Path, words: Iterable[int], width: int) -> None:
    """Write a $readmemh file (caller writes into a temporary folder that is renamed later)."""
    Path(path).write_text(hex_lines(words, width))


def copy_tables(source_dirs: Iterable[Path], run_dir: Path) -> None:
    """Put the $readmemh tables of generated RTL where a simulator looks for them.

    Generated tops name their tables relative to their own folder (`mem/fc0_w.hex`, `syn.hex`),
    so the folder can be moved or handed to another tool. A simulator opens them relative to
    its working directory: this copies each source folder's `*.hex` and `mem/` into run_dir
    (fresh each run, so an edited table is seen). Yosys 0.23 looks in its working directory
    first and beside the source second: our synthesis runs in a fresh folder, so it reads the
    source's; run Yosys elsewhere only from a folder holding no other model's `mem/`."""
    run_dir = Path(run_dir)
    for d in dict.fromkeys(Path(s) for s in source_dirs):
        if d.resolve() == run_dir.resolve():
            continue  # already where the simulator looks
        for f in d.glob("*.hex"):
            shutil.copyfile(f, run_dir / f.name)
        if (d / "mem").is_dir():
            shutil.rmtree(run_dir / "mem", ignore_errors=True)
            shutil.copytree(d / "mem", run_dir / "mem")


def read_hex(path: Path) -> list[int]:
    """Words of a $readmemh file written by write_hex (no address markers or comments)."""
    return [int(t, 16) for t in Path(path).read_text().split()]
