`timescale 1ns / 1ps
// delta_encoder -- temporal delta encoder for a vector of activation codes (arXiv 2107.07305).
//
// Per element i of a frame it keeps ref[i], the last value it transmitted, and computes
// d = code - ref[i] (ref = 0 on the first frame of a sequence). It emits an event (i, d) only
// when d != 0 and |d| >= theta, and then sets ref[i] = code; otherwise nothing is sent and ref
// keeps its value, so the consumer's error never exceeds theta - 1 codes and does not accumulate
// (golden rule: codesign/delta/golden.py delta_encode). After the last element of every frame it
// emits one end-of-frame beat (out_eof = 1, no delta), also when the frame had no events.
//
// Parameters:
//   N      elements per frame (the element index is implicit: beats 0..N-1 of each frame)
//   A_W    width of the unsigned activation codes;   out_delta is A_W+1 bits, two's complement
//   IDX_W  width of out_idx (>= clog2(N))
// Ports:
//   theta            threshold in codes (0 and 1: every non-zero delta is sent); hold it stable
//                    during a sequence
//   in_*             one code per beat; in_first = the beat belongs to the first frame of a
//                    sequence (the reference is taken as 0)
//   out_*            events; out_first copies in_first of the frame (the consumer restarts from
//                    its bias on the first beat of such a frame)
// Handshake: valid/ready on both sides (AXI-Stream rules: valid never waits for ready, data
// stable while valid and not ready). Output registered.
// Latency: 1 cycle from an accepted code to its event. Throughput: one code per cycle; a frame
// whose last element sends an event takes one extra cycle for the end-of-frame beat.
module delta_encoder #(
    parameter integer N = 32,
    parameter integer A_W = 8,
    parameter integer IDX_W = 5
) (
    input  wire                 clk,
    input  wire                 rst_n,
    input  wire [      A_W-1:0] theta,
    input  wire                 in_valid,
    output wire                 in_ready,
    input  wire [      A_W-1:0] in_data,
    input  wire                 in_first,
    output reg                  out_valid,
    input  wire                 out_ready,
    output reg                  out_eof,
    output reg                  out_first,
    output reg  [    IDX_W-1:0] out_idx,
    output reg  signed [A_W:0]  out_delta
);
    localparam [IDX_W-1:0] LAST = N[IDX_W-1:0] - 1'b1;

    reg [A_W-1:0] ref_mem[0:N-1];
    reg [IDX_W-1:0] idx;
    reg pend_eof;  // an end-of-frame beat waits behind the event in the output register
    reg pend_first;

    wire last = (idx == LAST);
    wire can_load = ~out_valid | out_ready;
    assign in_ready = can_load & ~pend_eof;
    wire take = in_valid & in_ready;

    wire [A_W-1:0] ref_v = in_first ? {A_W{1'b0}} : ref_mem[idx];
    wire signed [A_W:0] delta = $signed({1'b0, in_data}) - $signed({1'b0, ref_v});
    wire [A_W:0] mag = delta[A_W] ? (~delta + 1'b1) : delta;
    wire send = (delta != 0) & (mag >= {1'b0, theta});

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_eof <= 1'b0;
            out_first <= 1'b0;
            out_idx <= {IDX_W{1'b0}};
            out_delta <= {(A_W + 1) {1'b0}};
            idx <= {IDX_W{1'b0}};
            pend_eof <= 1'b0;
            pend_first <= 1'b0;
        end else if (can_load) begin
            if (take) begin
                idx <= last ? {IDX_W{1'b0}} : idx + 1'b1;
                out_first <= in_first;
                if (send) begin
                    out_valid <= 1'b1;
                    out_eof <= 1'b0;
                    out_idx <= idx;
                    out_delta <= delta;
                    pend_eof <= last;
                    pend_first <= in_first;
                end else if (last) begin
                    out_valid <= 1'b1;
                    out_eof <= 1'b1;
                    out_idx <= {IDX_W{1'b0}};
                    out_delta <= {(A_W + 1) {1'b0}};
                end else begin
                    out_valid <= 1'b0;
                end
            end else if (pend_eof) begin
                out_valid <= 1'b1;
                out_eof <= 1'b1;
                out_first <= pend_first;
                out_idx <= {IDX_W{1'b0}};
                out_delta <= {(A_W + 1) {1'b0}};
                pend_eof <= 1'b0;
            end else begin
                out_valid <= 1'b0;
            end
        end
    end

    // The reference memory needs no reset: the first frame of a sequence ignores it.
    always @(posedge clk) begin
        if (take & (send | in_first)) ref_mem[idx] <= send ? in_data : {A_W{1'b0}};
    end
endmodule
