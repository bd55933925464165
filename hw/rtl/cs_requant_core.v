`timescale 1ns / 1ps
// cs_requant_core -- requantise one accumulator (combinational).
//
//   q = clamp(round(acc * mult / 2**shift), LO, HI)
//
// This is Requant in codesign/ir/graph.py; the bias is already inside `acc`.
// Rounding (ROUNDING):
//   0 half_even : floor, then +1 if the remainder is above one half or exactly one half with an
//                 odd floor (ties to even; golden rule, codesign/ir/golden.py round_shift).
//   1 half_up   : (p + 2**(shift-1)) >>> shift (CoDeNet's rule, arXiv 2006.08357).
// Parameters:
//   ACC_W     signed accumulator width          MULT_W   unsigned multiplier width
//   SHIFT_W   width of the shift amount port    MAX_SHIFT largest shift that will be applied
//   OUT_W     output width (two's complement or unsigned, as LO/HI say)
//   LO, HI    clamp bounds (signed integers; a ReLU is LO = 0)
// Latency: 0 cycles (pure combinational). Handshake: none; see cs_requant for the stream version.
module cs_requant_core #(
    parameter integer ACC_W = 24,
    parameter integer MULT_W = 16,
    parameter integer SHIFT_W = 5,
    parameter integer MAX_SHIFT = 31,
    parameter integer OUT_W = 8,
    parameter integer LO = 0,
    parameter integer HI = 255,
    parameter integer ROUNDING = 0
) (
    input  wire signed [ ACC_W-1:0] acc,
    input  wire        [MULT_W-1:0] mult,
    input  wire        [SHIFT_W-1:0] shift,
    output wire        [ OUT_W-1:0] q
);
    // Wide enough for the exact product, for any shift up to MAX_SHIFT, and for the +half.
    localparam integer PBASE = (ACC_W + MULT_W > MAX_SHIFT + 1) ? ACC_W + MULT_W : MAX_SHIFT + 1;
    localparam integer PW = PBASE + 2;
    localparam signed [PW+31:0] LO_W = {{PW{LO[31]}}, LO};
    localparam signed [PW+31:0] HI_W = {{PW{HI[31]}}, HI};
    localparam signed [PW-1:0] LO_X = LO_W[PW-1:0];
    localparam signed [PW-1:0] HI_X = HI_W[PW-1:0];

    wire signed [PW-1:0] acc_x = {{(PW - ACC_W) {acc[ACC_W-1]}}, acc};
    wire signed [PW-1:0] mult_x = {{(PW - MULT_W) {1'b0}}, mult};
    wire signed [PW-1:0] prod = acc_x * mult_x;

    wire shift_zero = (shift == {SHIFT_W{1'b0}});
    wire [PW-1:0] one = {{(PW - 1) {1'b0}}, 1'b1};
    wire [PW-1:0] half = shift_zero ? {PW{1'b0}} : (one << (shift - 1'b1));
    wire [PW-1:0] mask = ~({PW{1'b1}} << shift);

    // half_even: floor, remainder, tie to even
    wire signed [PW-1:0] fl = prod >>> shift;
    wire [PW-1:0] rem = prod & mask;
    wire up_he = ~shift_zero & ((rem > half) | ((rem == half) & fl[0]));
    wire signed [PW-1:0] q_he = fl + {{(PW - 1) {1'b0}}, up_he};
    // half_up: add half, arithmetic shift
    wire signed [PW-1:0] q_hu = (prod + $signed(half)) >>> shift;

    wire signed [PW-1:0] r = (ROUNDING == 1) ? q_hu : q_he;
    wire signed [PW-1:0] c = (r < LO_X) ? LO_X : ((r > HI_X) ? HI_X : r);
    assign q = c[OUT_W-1:0];

    wire unused_bits = &{1'b0, c[PW-1:OUT_W], LO_W[PW+31:PW], HI_W[PW+31:PW]};
endmodule
