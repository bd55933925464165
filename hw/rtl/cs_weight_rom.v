`timescale 1ns / 1ps
// cs_weight_rom -- synchronous-read ROM for weight words (maps to block RAM / LUT RAM).
//
// One word holds all PE x SIMD weights (or weight indices) one cs_mvu fold uses in a cycle.
// Loaded from FILE with $readmemh (DEPTH lines of WIDTH bits).
// Parameters: DEPTH words, WIDTH bits per word, ADDR_W address width, FILE hex file.
// Latency: 1 cycle (dout holds mem[addr] of the last cycle with en = 1). Handshake: en only.
module cs_weight_rom #(
    parameter integer DEPTH = 16,
    parameter integer WIDTH = 32,
    parameter integer ADDR_W = 4,
    parameter FILE = ""
) (
    input  wire              clk,
    input  wire              en,
    input  wire [ADDR_W-1:0] addr,
    output reg  [ WIDTH-1:0] dout
);
    reg [WIDTH-1:0] mem[0:DEPTH-1];
    initial begin
        if (FILE != "") $readmemh(FILE, mem);
    end
    always @(posedge clk) begin
        if (en) dout <= mem[addr];
    end
endmodule
