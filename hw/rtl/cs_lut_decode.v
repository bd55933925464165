`timescale 1ns / 1ps
// cs_lut_decode -- codebook look-up: stored weight indices -> signed integer weights.
//
// For LUT quantisers (POST, arXiv 2504.17263) the weight memory holds IDX_W-bit indices and this
// ROM turns each into the integer level the multiplier sees (codebook[idx], sign included).
// One ROM serves LANES indices per cycle (a cs_mvu decodes PE x SIMD weights at once; synthesis
// gives each read port its own copy of the small table).
// The ROM is loaded from CB_FILE ($readmemh, one W_W-bit two's complement entry per line, all
// 2^IDX_W entries: the generator pads entries beyond the codebook with 0).
// Parameters: LANES read ports, IDX_W index width, W_W decoded weight width, CB_FILE hex file.
// Latency: 0 cycles (combinational ROM read). Handshake: none (used inside cs_mvu).
module cs_lut_decode #(
    parameter integer LANES = 1,
    parameter integer IDX_W = 4,
    parameter integer W_W = 8,
    parameter CB_FILE = ""
) (
    input  wire [LANES*IDX_W-1:0] idx,
    output wire [  LANES*W_W-1:0] w
);
    reg [W_W-1:0] rom[0:(1<<IDX_W)-1];
    // No zero-fill loop before $readmemh: Yosys 0.23 keeps the loop's zeros and drops the file
    // (a synthesised all-zero codebook). The generator writes all 2^IDX_W entries instead.
    initial begin
        if (CB_FILE != "") $readmemh(CB_FILE, rom);
    end
    genvar g;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            assign w[g*W_W+:W_W] = rom[idx[g*IDX_W+:IDX_W]];
        end
    endgenerate
endmodule
