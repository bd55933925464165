`timescale 1ns / 1ps
// cs_log_encode -- AdaLog encoder: unsigned activations -> log-base codes (arXiv 2407.12951).
//
// Per lane: code = #{j : u < TH[j]}, one comparator per entry of the non-increasing threshold
// table TH (codesign.quant.adalog_rule.LogQuantSpec.thresholds): entries 0 .. NT-2 are the
// log-domain half-way points between consecutive levels, entry NT-1 is the zero threshold, so
// code NT = 2**CODE_W - 1 (all ones) is exact zero and u = 0 always encodes to it. Because TH
// never increases, the comparators form a thermometer and the code is the position of its edge
// (a thermometer-to-binary encoder, no adder). A table that increases somewhere is not valid.
// The table is a parameter (entry j in TH[j*(IN_W+1) +: IN_W+1]; a threshold may be 2**IN_W,
// which no input reaches), so every comparator compares with a constant and synthesis keeps
// no table. It is shared by all lanes (one quantizer per tensor).
// Parameters: LANES elements per beat, IN_W input width, CODE_W code width (2 .. 8), TH.
// Latency: 1 cycle (output register). Throughput: 1 beat per cycle.
// Handshake: valid/ready (AXI-Stream rules): a beat moves when valid & ready at a rising edge;
//   out_valid/out_data hold until accepted; in_ready = ~out_valid | out_ready.
// Reset: synchronous, active low.
module cs_log_encode #(
    parameter integer LANES = 1,
    parameter integer IN_W = 8,
    parameter integer CODE_W = 4,
    parameter [((1<<CODE_W)-1)*(IN_W+1)-1:0] TH = 0
) (
    input  wire                     clk,
    input  wire                     rst_n,
    input  wire                     in_valid,
    output wire                     in_ready,
    input  wire [   LANES*IN_W-1:0] in_data,
    output reg                      out_valid,
    input  wire                     out_ready,
    output reg  [LANES*CODE_W-1:0] out_data
);
    localparam integer NT = (1 << CODE_W) - 1;  // thresholds (= the zero code)
    localparam integer TH_W = IN_W + 1;

    // Per lane: t[j] = (u < TH[j]). TH is non-increasing, so t is a thermometer (ones, then
    // zeros) and code = #ones = the position of its first zero: bit i of the code is set where
    // that edge falls in the upper half of a 2**(i+1) block (t[NT] = 0 closes the last block).
    localparam integer NC = 1 << CODE_W;
    reg [LANES*CODE_W-1:0] codes;
    reg [NC-1:0] t;
    reg [TH_W-1:0] u;
    integer l, j, i, m;
    always @* begin
        codes = {(LANES * CODE_W) {1'b0}};
        t = {NC{1'b0}};
        for (l = 0; l < LANES; l = l + 1) begin
            u = {1'b0, in_data[l*IN_W+:IN_W]};
            for (j = 0; j < NT; j = j + 1) t[j] = u < TH[j*TH_W+:TH_W];
            t[NC-1] = 1'b0;
            for (i = 0; i < CODE_W; i = i + 1) begin
                for (m = 0; m < (NC >> (i + 1)); m = m + 1) begin
                    if (t[(m<<(i+1))+(1<<i)-1] & ~t[((m+1)<<(i+1))-1]) codes[l*CODE_W+i] = 1'b1;
                end
            end
        end
    end

    assign in_ready = ~out_valid | out_ready;

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_data  <= {(LANES * CODE_W) {1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid;
            if (in_valid) out_data <= codes;
        end
    end
endmodule
