`timescale 1ns / 1ps
// delta_layer -- delta_encoder feeding delta_accum: a dense layer on activation codes that only
// computes on the codes that changed (arXiv 2107.07305). The event stream between the two is
// also brought out (ev_*, read-only) so a bench can compare the transmitted deltas with the
// golden model's.
//
// Parameters: N (= the consumer's IN), A_W, IDX_W as in delta_encoder; OUT, PE, W_W, ACC_W,
// MULT_W, SHIFT_W, MAX_SHIFT, OUT_W, LO, HI, ROUNDING and the four *_FILE tables as in
// delta_accum (D_W = A_W + 1).
// Handshake: valid/ready (AXI-Stream rules) on in_* and out_*; ev_* is a monitor of the
// internal stream (a transfer is ev_valid & ev_ready).
// Latency: 1 cycle (encoder) + the consumer's. Throughput: one code per cycle into the encoder;
// with one frame in flight a frame takes about max(N + 1, events * OUT/PE + 3) + OUT/PE cycles
// (measured on the trained model: 11.9 + 7.92 * events at OUT/PE = 8, and N + OUT/PE + 1 = 41
// with no events, where the encoder reading every code is the floor).
module delta_layer #(
    parameter integer N = 32,
    parameter integer A_W = 8,
    parameter integer IDX_W = 5,
    parameter integer OUT = 32,
    parameter integer PE = 4,
    parameter integer W_W = 6,
    parameter integer ACC_W = 24,
    parameter integer MULT_W = 16,
    parameter integer SHIFT_W = 5,
    parameter integer MAX_SHIFT = 31,
    parameter integer OUT_W = 8,
    parameter integer LO = 0,
    parameter integer HI = 255,
    parameter integer ROUNDING = 0,
    parameter WEIGHT_FILE = "",
    parameter BIAS_FILE = "",
    parameter MULT_FILE = "",
    parameter SHIFT_FILE = ""
) (
    input  wire                  clk,
    input  wire                  rst_n,
    input  wire [       A_W-1:0] theta,
    input  wire                  in_valid,
    output wire                  in_ready,
    input  wire [       A_W-1:0] in_data,
    input  wire                  in_first,
    output wire                  out_valid,
    input  wire                  out_ready,
    output wire                  out_last,
    output wire [  PE*OUT_W-1:0] out_data,
    output wire [  PE*ACC_W-1:0] out_acc,
    output wire                  ev_valid,
    output wire                  ev_ready,
    output wire                  ev_eof,
    output wire [     IDX_W-1:0] ev_idx,
    output wire signed [A_W:0]   ev_delta
);
    wire ev_first;

    delta_encoder #(
        .N(N),
        .A_W(A_W),
        .IDX_W(IDX_W)
    ) u_enc (
        .clk(clk),
        .rst_n(rst_n),
        .theta(theta),
        .in_valid(in_valid),
        .in_ready(in_ready),
        .in_data(in_data),
        .in_first(in_first),
        .out_valid(ev_valid),
        .out_ready(ev_ready),
        .out_eof(ev_eof),
        .out_first(ev_first),
        .out_idx(ev_idx),
        .out_delta(ev_delta)
    );

    delta_accum #(
        .IN(N),
        .OUT(OUT),
        .PE(PE),
        .IDX_W(IDX_W),
        .D_W(A_W + 1),
        .W_W(W_W),
        .ACC_W(ACC_W),
        .MULT_W(MULT_W),
        .SHIFT_W(SHIFT_W),
        .MAX_SHIFT(MAX_SHIFT),
        .OUT_W(OUT_W),
        .LO(LO),
        .HI(HI),
        .ROUNDING(ROUNDING),
        .WEIGHT_FILE(WEIGHT_FILE),
        .BIAS_FILE(BIAS_FILE),
        .MULT_FILE(MULT_FILE),
        .SHIFT_FILE(SHIFT_FILE)
    ) u_acc (
        .clk(clk),
        .rst_n(rst_n),
        .in_valid(ev_valid),
        .in_ready(ev_ready),
        .in_eof(ev_eof),
        .in_first(ev_first),
        .in_idx(ev_idx),
        .in_delta(ev_delta),
        .out_valid(out_valid),
        .out_ready(out_ready),
        .out_last(out_last),
        .out_data(out_data),
        .out_acc(out_acc)
    );
endmodule
