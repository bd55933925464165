`timescale 1ns / 1ps
// cs_requant_codenet -- CoDeNet requantisation (hqjenny/CoDeNet hls/, arXiv 2006.08357).
//
//   q = ((acc * scale + 2**(SHIFT-1)) >>> SHIFT) + bias     (the half is added for every sign)
//   if relu: q = max(q, 0) - 2**(ACT_W-1)                  (-128: the activation zero point)
//   out = clamp(q, -2**(ACT_W-1), 2**(ACT_W-1) - 1)
// Published vectors (ACT_W = 8, SHIFT = 16), see ../shared/REFERENCES.md:
//   (acc 100, scale 16384, bias 3, relu) -> -100;  (1000, 32768, 0, relu) -> 127;
//   (-100, 16384, 3, no relu) -> -22;               (6, 16384, 0, no relu) -> 2.
// Parameters: ACC_W accumulator width (signed), SCALE_W width of the unsigned scale (CoDeNet: 16;
//   unsigned because the published vector scale 32768 does not fit a signed 16-bit field),
//   BIAS_W width of the signed bias (16), SHIFT (CoDeNet: 16), ACT_W output width (CoDeNet: 8).
// Latency: 1 cycle. Handshake: valid/ready; in_ready = ~out_valid | out_ready.
// `in_relu` is per beat so one unit serves layers with and without ReLU.
module cs_requant_codenet #(
    parameter integer ACC_W = 24,
    parameter integer SCALE_W = 16,
    parameter integer BIAS_W = 16,
    parameter integer SHIFT = 16,
    parameter integer ACT_W = 8
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [  ACC_W-1:0] in_acc,
    input  wire [SCALE_W-1:0] in_scale,
    input  wire [ BIAS_W-1:0] in_bias,
    input  wire               in_relu,
    output reg                out_valid,
    input  wire               out_ready,
    output reg  [  ACT_W-1:0] out_q
);
    localparam integer PW = ACC_W + SCALE_W + BIAS_W + 2;
    wire signed [PW-1:0] acc_x = {{(PW - ACC_W) {in_acc[ACC_W-1]}}, in_acc};
    wire signed [PW-1:0] scale_x = {{(PW - SCALE_W) {1'b0}}, in_scale};
    wire signed [PW-1:0] bias_x = {{(PW - BIAS_W) {in_bias[BIAS_W-1]}}, in_bias};
    wire signed [PW-1:0] half = {{(PW - SHIFT) {1'b0}}, 1'b1, {(SHIFT - 1) {1'b0}}};
    wire signed [PW-1:0] zp = {{(PW - ACT_W) {1'b0}}, 1'b1, {(ACT_W - 1) {1'b0}}};
    wire signed [PW-1:0] q0 = ((acc_x * scale_x + half) >>> SHIFT) + bias_x;
    wire signed [PW-1:0] q1 = in_relu ? ((q0[PW-1] ? {PW{1'b0}} : q0) - zp) : q0;
    wire signed [PW-1:0] lo = -zp;
    wire signed [PW-1:0] hi = zp - 1'b1;
    wire signed [PW-1:0] c = (q1 < lo) ? lo : ((q1 > hi) ? hi : q1);

    assign in_ready = ~out_valid | out_ready;

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_q <= {ACT_W{1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid;
            if (in_valid) out_q <= c[ACT_W-1:0];
        end
    end

    wire unused_bits = &{1'b0, c[PW-1:ACT_W]};
endmodule
