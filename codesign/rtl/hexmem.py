"""Pack integer tables into $readmemh files: one word per line, lane 0 in the low bits."""

from __future__ import annotations

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


def read_hex(path: Path) -> list[int]:
    """Words of a $readmemh file written by write_hex (no address markers or comments)."""
    return [int(t, 16) for t in Path(path).read_text().split()]
