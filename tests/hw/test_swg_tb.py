"""cs_swg (the sliding-window generator of a streaming convolution) under Verilator against a
numpy reference: strides, dilations, asymmetric padding with per-channel pad values (a zero
point), 1-row kernels, windows wider than the stride, several images back to back, with input
gaps and output back-pressure; and the throughput a back-to-back stream reaches."""

import pytest
from hwtest_util import CACHE, run_unit

from codesign.rtl.hexmem import pack_word

CASES = {
    # name: (C, E_W, H, W, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, signed)
    "3x3_same": (2, 8, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, True),
    "3x3_valid_stride2": (3, 4, 9, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, False),
    "dilated_asym_pad": (2, 6, 7, 9, 3, 2, 1, 2, 2, 3, 2, 0, 1, 3, True),
    "stride_over_kernel": (1, 8, 10, 10, 2, 2, 3, 3, 1, 1, 0, 1, 0, 0, False),
    "one_row_kernel": (4, 2, 5, 12, 1, 5, 1, 1, 1, 1, 0, 2, 0, 2, False),
    "whole_image_window": (2, 8, 4, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, True),
}
NAMES = ("C", "E_W", "H", "W", "KH", "KW", "SH", "SW", "DH", "DW", "PT", "PL", "PB", "PR")


def _run(
    name: str,
    case: tuple,
    gap_p: float,
    bp_p: float,
    images: int,
    cycles_out=None,
    rtl_pad_shift: int = 0,
):
    *vals, signed = case
    params = dict(zip(NAMES, vals, strict=True))
    c, e_w = params["C"], params["E_W"]
    lo = -(1 << (e_w - 1)) if signed else 0
    pad = [lo + 1 + (3 * i) % ((1 << e_w) - 1) for i in range(c)]  # a zero point per channel
    rtl_pad = [pad[0] + rtl_pad_shift, *pad[1:]]  # a planted fault: the RTL's own pad value
    params["PAD_WORD"] = pack_word(rtl_pad, e_w)
    cfg = dict(params, signed=signed, pad=pad, images=images, gap_p=gap_p, bp_p=bp_p)
    if cycles_out:
        cfg["cycles_out"] = str(cycles_out)
    return run_unit(f"swg_{name}", ["cs_swg.v"], "cs_swg", "tb_swg", params, cfg)


@pytest.mark.parametrize("name", list(CASES))
def test_windows_under_stalls(name):
    _run(name, CASES[name], gap_p=0.3, bp_p=0.4, images=3)


def test_back_to_back_throughput():
    """With no gaps or stalls, 4 images of a 3x3 'same' window take the window beats plus the
    rows the first window of each image waits for (the line buffer does not overlap images
    yet): within 20 % of one beat per cycle here."""
    name, case = "3x3_same", CASES["3x3_same"]
    out = CACHE / "swg_cycles.txt"
    _run(name, case, gap_p=0.0, bp_p=0.0, images=4, cycles_out=out)
    beats = 4 * 6 * 7 * 9
    cycles = int(out.read_text())
    assert beats <= cycles <= 1.2 * beats, (cycles, beats)


def test_a_planted_pad_fault_is_named():
    """The RTL pads channel 0 with its zero point + 1: the bench names the first padded beat
    (output pixel 0, tap (0, 0) of a 'same' window), and both values."""
    with pytest.raises(AssertionError, match="tb_swg failed, see (.*)") as err:
        _run("pad_fault", CASES["3x3_same"], gap_p=0.0, bp_p=0.0, images=1, rtl_pad_shift=1)
    log = err.value.args[0].split("see ")[-1]
    text = open(log).read()
    pad0 = -(1 << 7) + 1
    assert f"beat 0 (output pixel 0, tap (0, 0)): rtl [{pad0 + 1}, " in text, log
    assert f"expected [{pad0}, " in text
