`timescale 1ns / 1ps
// cs_requant -- stream wrapper of cs_requant_core: one requantised value per beat.
//
//   DYN = 0 (static):  q = clamp(round(acc * mult / 2**shift), LO, HI)           (bias in acc)
//   DYN = 1 (dynamic): q = clamp(round((acc * g + bias) * mult / 2**shift), LO, HI)
//
// DYN = 1 is the requantiser of a layer fed by an ASQ stage: acc the raw dot product W @ q of
// the ASQ codes, g the sample's adapter factor (cs_asq out_g), bias on the static grid
// s_base / 2**Gf * s_w; this is `dyn_in` in codesign.ir.golden. The scaled accumulator
// acc * g + bias (DYN_W bits, DenseLayer.acc_bits) goes through cs_requant_core.
// Parameters:
//   ACC_W    signed width of in_acc                   DYN     0 static, 1 dynamic (in_g, in_bias)
//   G_W      width of g (unsigned; DYN = 1 only)
//   DYN_W    signed width of acc * g + bias (DYN = 1 only; >= ACC_W + G_W + 1 is always enough)
//   MULT_W, SHIFT_W, MAX_SHIFT, OUT_W, LO, HI, ROUNDING: see cs_requant_core
// With DYN = 0, in_g and in_bias are ignored (tie them to 0).
// Latency: 1 cycle (output register). Throughput: 1 beat per cycle.
// Handshake: valid/ready (AXI-Stream rules): a beat moves when valid & ready at a rising edge;
//   out_valid/out_q hold until accepted; in_ready = ~out_valid | out_ready (a full output
//   register that is not being drained stalls the input). Reset: synchronous, active low.
module cs_requant #(
    parameter integer ACC_W = 24,
    parameter integer MULT_W = 16,
    parameter integer SHIFT_W = 5,
    parameter integer MAX_SHIFT = 31,
    parameter integer OUT_W = 8,
    parameter integer LO = 0,
    parameter integer HI = 255,
    parameter integer ROUNDING = 0,
    parameter integer DYN = 0,
    parameter integer G_W = 8,
    parameter integer DYN_W = ACC_W + G_W + 1
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [  ACC_W-1:0] in_acc,
    input  wire [    G_W-1:0] in_g,
    input  wire [  DYN_W-1:0] in_bias,
    input  wire [ MULT_W-1:0] in_mult,
    input  wire [SHIFT_W-1:0] in_shift,
    output reg                out_valid,
    input  wire               out_ready,
    output reg  [  OUT_W-1:0] out_q
);
    localparam integer CW = (DYN != 0) ? DYN_W : ACC_W;  // cs_requant_core accumulator width
    wire [CW-1:0] acc;
    generate
        if (DYN != 0) begin : g_dyn
            localparam integer PW = ((ACC_W + G_W + 1 > DYN_W) ? ACC_W + G_W + 1 : DYN_W) + 1;
            wire signed [PW-1:0] acc_x = {{(PW - ACC_W) {in_acc[ACC_W-1]}}, in_acc};
            wire signed [PW-1:0] g_x = {{(PW - G_W) {1'b0}}, in_g};
            wire signed [PW-1:0] bias_x = {{(PW - DYN_W) {in_bias[DYN_W-1]}}, in_bias};
            wire signed [PW-1:0] scaled = acc_x * g_x + bias_x;
            assign acc = scaled[DYN_W-1:0];
            wire unused = &{1'b0, scaled[PW-1:DYN_W]};
        end else begin : g_static
            assign acc = in_acc;
            wire unused = &{1'b0, in_g, in_bias};
        end
    endgenerate

    wire [OUT_W-1:0] q;
    cs_requant_core #(
        .ACC_W(CW),
        .MULT_W(MULT_W),
        .SHIFT_W(SHIFT_W),
        .MAX_SHIFT(MAX_SHIFT),
        .OUT_W(OUT_W),
        .LO(LO),
        .HI(HI),
        .ROUNDING(ROUNDING)
    ) core (
        .acc(acc),
        .mult(in_mult),
        .shift(in_shift),
        .q(q)
    );

    assign in_ready = ~out_valid | out_ready;

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_q <= {OUT_W{1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid;
            if (in_valid) out_q <= q;
        end
    end
endmodule
