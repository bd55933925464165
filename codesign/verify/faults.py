"""Planted faults in generated RTL: proof that the layer-by-layer checker finds them."""

from __future__ import annotations

from pathlib import Path

from codesign.atomic import write_with
from codesign.errors import CodesignError
from codesign.rtl.hexmem import hex_lines, read_hex
from codesign.rtl.manifest import load as load_manifest


def weight_bit_location(lay: dict, out_idx: int, in_idx: int, bit: int) -> tuple[int, int]:
    """(word, bit position) of bit `bit` of weight (out_idx, in_idx) in a layer's weight file."""
    pe, simd, wb = lay["pe"], lay["simd"], lay["weight_store_bits"]
    if not (0 <= out_idx < lay["out_features"] and 0 <= in_idx < lay["in_features"]):
        raise CodesignError(f"layer '{lay['name']}': weight ({out_idx}, {in_idx}) out of range")
    if not 0 <= bit < wb:
        raise CodesignError(f"layer '{lay['name']}': bit {bit} outside {wb}-bit weights")
    sf = lay["in_features"] // simd
    nf, p = divmod(out_idx, pe)
    s_f, s = divmod(in_idx, simd)
    return nf * sf + s_f, (p * simd + s) * wb + bit


def flip_weight_bit(rtl_dir: str | Path, layer: str, out_idx: int, in_idx: int, bit: int) -> dict:
    """Flip one stored weight bit (index bit for LUT layers) in the generated memory file."""
    rtl_dir = Path(rtl_dir)
    man = load_manifest(rtl_dir)
    lay = next((la for la in man["layers"] if la["name"] == layer), None)
    if lay is None:
        raise CodesignError(f"no layer named '{layer}' in {rtl_dir}")
    word, pos = weight_bit_location(lay, out_idx, in_idx, bit)
    path = rtl_dir / "mem" / lay["files"]["weights"]
    words = read_hex(path)
    before = (words[word] >> (pos - bit)) & ((1 << lay["weight_store_bits"]) - 1)
    words[word] ^= 1 << pos
    text = hex_lines(words, lay["pe"] * lay["simd"] * lay["weight_store_bits"])
    write_with(path, lambda p: p.write_text(text))
    return {
        "layer": layer,
        "word": word,
        "bit": pos,
        "code_before": before,
        "code_after": before ^ (1 << bit),
    }
