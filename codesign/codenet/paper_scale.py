"""CoDeNet configuration c at paper scale (512 px): layer shapes, MACs, weight bytes, cycles.

Published (arXiv 2006.08357, ../shared/REFERENCES.md): config c, 512 px, 61.7 AP50 on VOC,
9.3 fps on Ultra96, 0.76 MB weights, 1.14 GMAC.

Our reconstruction (shapes only; the paper's exact head widths are not in our references):
- stem: 3x3 conv, stride 4, 3 -> 24 channels (hqjenny/CoDeNet sw/tvm/test_config_cd.py: the
  config c/d workload 512x512x3 -> 24, 3x3, stride 4), 8-bit weights;
- ShuffleNetV2 1.0x stages (Ma et al., 2018): 116 / 232 / 464 channels, 4 / 8 / 4 units, the
  first of each stage with stride 2, then conv5 (1x1, 464 -> 1024); every depthwise 3x3 is a
  square deformable conv (+ its 1x1 C -> 1 scale predictor); no classifier;
- CenterNet head on the stride-32 map: HEAD_STAGES of (deformable depthwise 3x3 + 1x1 conv +
  2x upsampling, no MACs counted for the upsampling) to stride 4, then heatmap (20 VOC classes),
  size (2) and offset (2) 1x1 heads.
Weights at 4 bits (first layer 8 bits), per-channel 16-bit scale + 16-bit bias counted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from codesign.codenet import perf

PAPER_C = {
    "input_px": 512,
    "gmac": 1.14,
    "weight_mb": 0.76,
    "fps": 9.3,
    "ap50": 61.7,
}  # arXiv 2006.08357
STAGES = ((116, 4), (232, 8), (464, 4))  # ShuffleNetV2 1.0x (Ma et al., ECCV 2018)
CONV5 = 1024  # ShuffleNetV2 1.0x conv5 width
HEAD_STAGES = (256, 128, 64)  # our assumption: CenterNet-style 3 upsampling stages
VOC_CLASSES = 20
ULTRA96 = {"pa": 16, "pe": 16, "clock_mhz": 200}  # CoDeNet: 1x1 unit 16x16, dw PE 16; clock ours


@dataclass
class Spec:
    name: str
    kind: str  # "conv" (k x k dense), "pw", "dw"
    h: int  # output height = width
    cin: int
    cout: int
    k: int = 1
    stride: int = 1
    bits: int = 4

    @property
    def macs(self) -> int:
        if self.kind == "dw":
            return self.h * self.h * self.cout * 9
        return self.h * self.h * self.cin * self.cout * self.k * self.k

    @property
    def weights(self) -> int:
        return self.cout * 9 if self.kind == "dw" else self.cin * self.cout * self.k * self.k


def _dw(name: str, h_out: int, c: int, stride: int = 1) -> list[Spec]:
    """Square deformable depthwise 3x3 and its 1x1 C -> 1 scale predictor (on the input map)."""
    return [Spec(f"{name}.s", "pw", h_out * stride, c, 1), Spec(name, "dw", h_out, c, c, 3, stride)]


def config_c(px: int = 512) -> list[Spec]:
    layers = [Spec("conv1", "conv", px // 4, 3, 24, 3, 4, bits=8)]
    h, cin = px // 4, 24
    for si, (c, units) in enumerate(STAGES, 2):
        for u in range(units):
            n = f"stage{si}.{u}"
            if u == 0:  # stride-2 unit: both branches see all cin channels
                h //= 2
                layers += _dw(f"{n}.l.dw", h, cin, 2) + [Spec(f"{n}.l.pw", "pw", h, cin, c // 2)]
                layers += [Spec(f"{n}.r.pw1", "pw", h * 2, cin, c // 2)]
                layers += _dw(f"{n}.r.dw", h, c // 2, 2) + [
                    Spec(f"{n}.r.pw2", "pw", h, c // 2, c // 2)
                ]
            else:  # channel split: the branch works on c/2 channels
                half = c // 2
                layers += [Spec(f"{n}.pw1", "pw", h, half, half)]
                layers += _dw(f"{n}.dw", h, half) + [Spec(f"{n}.pw2", "pw", h, half, half)]
            cin = c
    layers.append(Spec("conv5", "pw", h, cin, CONV5))
    cin = CONV5
    for i, c in enumerate(HEAD_STAGES):
        layers += _dw(f"head.up{i}.dw", h, cin) + [Spec(f"head.up{i}.pw", "pw", h, cin, c)]
        h, cin = h * 2, c
    for name, cout in (("hm", VOC_CLASSES), ("wh", 2), ("reg", 2)):
        layers += _dw(f"head.{name}.dw", h, cin) + [Spec(f"head.{name}.pw", "pw", h, cin, cout)]
    return layers


def accounting(
    px: int = 512,
    pa: int = ULTRA96["pa"],
    pe: int = ULTRA96["pe"],
    clock_mhz: float = ULTRA96["clock_mhz"],
) -> dict:
    """MACs, weight bytes and the analytic cycle model on codenet_accel(PA, PE) for config c."""
    specs = config_c(px)
    macs = sum(s.macs for s in specs)
    wbits = sum(s.weights * s.bits + s.cout * 32 for s in specs)
    cycles = ideal = 0.0
    for s in specs:
        if s.kind == "dw":
            cycles += perf.dw_cycles(s.h * s.stride, s.h * s.stride, s.cout, pe, s.stride)
            ideal += perf.ideal_dw(s.h * s.stride, s.h * s.stride, s.cout, pe, s.stride)
        elif s.kind == "pw":
            cycles += perf.pw_cycles(s.h, s.h, s.cin, s.cout, pa, pe)
            ideal += perf.ideal_pw(s.h, s.h, s.cin, s.cout, pa, pe)
        else:  # the dense stem as an im2col 1x1 conv with cin*k*k inputs
            cycles += perf.pw_cycles(s.h, s.h, s.cin * s.k * s.k, s.cout, pa, pe)
            ideal += perf.ideal_pw(s.h, s.h, s.cin * s.k * s.k, s.cout, pa, pe)
    hz = clock_mhz * 1e6
    return {
        "config": "c",
        "input_px": px,
        "layers": len(specs),
        "gmac": round(macs / 1e9, 4),
        "weight_mb": round(wbits / 8 / 1e6, 4),
        "paper": PAPER_C,
        "accelerator": {"pa": pa, "pe": pe, "clock_mhz": clock_mhz},
        "model_cycles": int(cycles),
        "ideal_cycles": int(ideal),
        "fps_model": round(hz / cycles, 2),
        "fps_ideal": round(hz / ideal, 2),
        "assumptions": "head widths " + "/".join(map(str, HEAD_STAGES)) + " and clock are ours; "
        "depthwise taps one per cycle (PE lanes), feature maps stream from DRAM without stalls",
    }
