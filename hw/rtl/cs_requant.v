`timescale 1ns / 1ps
// cs_requant -- stream wrapper of cs_requant_core: one requantised value per beat.
//
// Parameters: as cs_requant_core (ACC_W, MULT_W, SHIFT_W, MAX_SHIFT, OUT_W, LO, HI, ROUNDING).
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
    parameter integer ROUNDING = 0
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [  ACC_W-1:0] in_acc,
    input  wire [ MULT_W-1:0] in_mult,
    input  wire [SHIFT_W-1:0] in_shift,
    output reg                out_valid,
    input  wire               out_ready,
    output reg  [  OUT_W-1:0] out_q
);
    wire [OUT_W-1:0] q;
    cs_requant_core #(
        .ACC_W(ACC_W),
        .MULT_W(MULT_W),
        .SHIFT_W(SHIFT_W),
        .MAX_SHIFT(MAX_SHIFT),
        .OUT_W(OUT_W),
        .LO(LO),
        .HI(HI),
        .ROUNDING(ROUNDING)
    ) core (
        .acc(in_acc),
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
