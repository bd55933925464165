`timescale 1ns / 1ps
// cs_log_decode -- AdaLog decoder: log-base codes -> unsigned integers, a shift plus a small LUT.
//
// Per lane (codesign.quant.adalog_rule.LogQuantSpec.decode_table, arXiv 2407.12951):
//   x = LUT[(k * Q) mod R] >> floor(k * Q / R),  x = 0 for the zero code k = 2**CODE_W - 1,
// i.e. b^-k with base b = 2**(Q/R) as X_W-bit fixed point (LUT[f] = round(2**F * 2**(-f/R)),
// X_W = F + 1). The LUT index and the shift of every code are elaboration-time constants
// (as the paper's code keeps a shift table and a LUT-value table per code), so the hardware is
// a small index/shift table, an R-entry LUT and a barrel shifter, with no divider. The LUT is a
// parameter (entry f in LUT[f*X_W +: X_W]) shared by all lanes (one quantizer per tensor).
// Parameters: LANES elements per beat, CODE_W code width (2 .. 8), Q and R (base 2**(Q/R);
//   1 <= R <= 512, 1 <= Q <= 16 R), X_W decoded width, LUT.
// Latency: 1 cycle (output register). Throughput: 1 beat per cycle.
// Handshake: valid/ready (AXI-Stream rules): a beat moves when valid & ready at a rising edge;
//   out_valid/out_data hold until accepted; in_ready = ~out_valid | out_ready.
// Reset: synchronous, active low.
module cs_log_decode #(
    parameter integer LANES = 1,
    parameter integer CODE_W = 4,
    parameter integer Q = 37,
    parameter integer R = 37,
    parameter integer X_W = 9,
    parameter [R*X_W-1:0] LUT = 0
) (
    input  wire                    clk,
    input  wire                    rst_n,
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire [LANES*CODE_W-1:0] in_data,
    output reg                     out_valid,
    input  wire                    out_ready,
    output reg  [   LANES*X_W-1:0] out_data
);
    localparam integer NC = 1 << CODE_W;  // codes; NC - 1 is the zero code
    localparam integer FW = (R > 1) ? $clog2(R) : 1;  // LUT index width
    localparam integer SW = $clog2(X_W + 1);  // shifts >= X_W all give 0: clamped to X_W
    localparam [CODE_W-1:0] ZERO = {CODE_W{1'b1}};

    // per-code LUT index (k Q) mod R and shift min(floor(k Q / R), X_W), constants
    wire [FW-1:0] f_of[0:NC-1];
    wire [SW-1:0] s_of[0:NC-1];
    genvar c, g;
    generate
        for (c = 0; c < NC; c = c + 1) begin : g_code
            localparam integer KQ = c * Q;
            localparam integer SH = (KQ / R > X_W) ? X_W : KQ / R;
            localparam integer FI = KQ % R;
            assign f_of[c] = FI[FW-1:0];
            assign s_of[c] = SH[SW-1:0];
        end
    endgenerate

    wire [LANES*X_W-1:0] xs;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            wire [CODE_W-1:0] k = in_data[g*CODE_W+:CODE_W];
            wire [FW-1:0] f = f_of[k];
            wire [SW-1:0] s = s_of[k];
            wire [X_W-1:0] m = LUT[f*X_W+:X_W];
            assign xs[g*X_W+:X_W] = (k == ZERO) ? {X_W{1'b0}} : (m >> s);
        end
    endgenerate

    assign in_ready = ~out_valid | out_ready;

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_data  <= {(LANES * X_W) {1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid;
            if (in_valid) out_data <= xs;
        end
    end
endmodule
