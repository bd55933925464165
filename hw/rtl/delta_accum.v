`timescale 1ns / 1ps
// delta_accum -- accumulate-only consumer of delta events (arXiv 2107.07305).
//
// Keeps one accumulator per output, S[o]. For each event (idx, d) it adds W[o][idx] * d to every
// S[o], PE outputs per cycle; it does no work for elements that sent nothing, so a frame costs
// cycles in proportion to its events, not to IN. On the end-of-frame beat it streams out
// requant(S[o]) (cs_requant_core: multiplier, shift, half-even rounding, clamp) and S[o] itself,
// PE outputs per beat. The first beat of a frame flagged in_first restarts S from the bias, so
// S = W * ref + bias, where ref is the sum of the deltas received (golden rule:
// codesign/delta/golden.py accumulate + requantize).
//
// Parameters:
//   IN, OUT       inputs (event index range) and outputs;  PE outputs per cycle (PE divides OUT)
//   IDX_W         event index width (>= clog2(IN));  D_W delta width (two's complement)
//   W_W           signed weight width;  ACC_W signed accumulator width (worst case of S)
//   MULT_W, SHIFT_W, MAX_SHIFT, OUT_W, LO, HI, ROUNDING   as in cs_requant_core
//   WEIGHT_FILE   $readmemh, IN*OUT/PE words of PE*W_W bits: word idx*(OUT/PE)+g holds
//                 W[g*PE+p][idx] in lane p (lane 0 in the low bits)
//   BIAS_FILE, MULT_FILE, SHIFT_FILE   $readmemh, OUT words each (ACC_W, MULT_W, SHIFT_W bits)
// Handshake: valid/ready on both sides (AXI-Stream rules); out_last marks the last beat of a frame.
// Latency / throughput: an event takes OUT/PE cycles (the next event is accepted in the last of
// them; one more cycle after an idle gap); an end-of-frame beat takes 1 cycle, then OUT/PE output
// beats (more under back-pressure). Per frame: about (events + 1) * OUT/PE + 2 cycles.
module delta_accum #(
    parameter integer IN = 32,
    parameter integer OUT = 32,
    parameter integer PE = 4,
    parameter integer IDX_W = 5,
    parameter integer D_W = 9,
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
    input  wire                    clk,
    input  wire                    rst_n,
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire                    in_eof,
    input  wire                    in_first,
    input  wire [       IDX_W-1:0] in_idx,
    input  wire signed [D_W-1:0]   in_delta,
    output wire                    out_valid,
    input  wire                    out_ready,
    output wire                    out_last,
    output wire [  PE*OUT_W-1:0]   out_data,
    output wire [  PE*ACC_W-1:0]   out_acc
);
    localparam integer NG = OUT / PE;
    localparam integer G_W = (NG > 1) ? $clog2(NG) : 1;
    localparam integer WA_W = (IN * NG > 1) ? $clog2(IN * NG) : 1;
    localparam integer OA_W = (OUT > 1) ? $clog2(OUT) : 1;
    localparam [G_W-1:0] LAST_G = NG[G_W-1:0] - 1'b1;

    reg [PE*W_W-1:0] wmem[0:IN*NG-1];
    reg [ACC_W-1:0] bmem[0:OUT-1];
    reg [MULT_W-1:0] mmem[0:OUT-1];
    reg [SHIFT_W-1:0] smem[0:OUT-1];
    initial begin
        if (WEIGHT_FILE != "") $readmemh(WEIGHT_FILE, wmem);
        if (BIAS_FILE != "") $readmemh(BIAS_FILE, bmem);
        if (MULT_FILE != "") $readmemh(MULT_FILE, mmem);
        if (SHIFT_FILE != "") $readmemh(SHIFT_FILE, smem);
    end

    reg signed [ACC_W-1:0] acc[0:OUT-1];
    reg busy, emit, fresh;
    reg [G_W-1:0] g;
    reg [IDX_W-1:0] cur_idx;
    reg signed [D_W-1:0] cur_delta;

    wire last_g = (g == LAST_G);
    wire step = busy & ~emit;  // one group of PE outputs of the current event per cycle
    assign in_ready = ~busy | (step & last_g);
    wire take = in_valid & in_ready;
    wire clear = take & in_first & fresh;  // first beat of a sequence's first frame
    assign out_valid = busy & emit;
    assign out_last = last_g;
    wire fire = out_valid & out_ready;

    wire [31:0] waddr32 = {{(32 - IDX_W) {1'b0}}, cur_idx} * NG + {{(32 - G_W) {1'b0}}, g};
    wire [WA_W-1:0] waddr = waddr32[WA_W-1:0];
    wire [PE*W_W-1:0] wword = wmem[waddr];
    wire [PE*OA_W-1:0] ch_flat;
    wire [PE*ACC_W-1:0] sum_flat;

    genvar p;
    generate
        for (p = 0; p < PE; p = p + 1) begin : lane
            wire [31:0] ch32 = {{(32 - G_W) {1'b0}}, g} * PE + p;
            wire [OA_W-1:0] ch = ch32[OA_W-1:0];
            wire signed [W_W-1:0] w = wword[p*W_W+:W_W];
            wire signed [W_W+D_W-1:0] prod = w * cur_delta;
            wire signed [ACC_W-1:0] prod_x = {{(ACC_W - W_W - D_W) {prod[W_W+D_W-1]}}, prod};
            wire signed [ACC_W-1:0] s = acc[ch];
            assign ch_flat[p*OA_W+:OA_W] = ch;
            assign sum_flat[p*ACC_W+:ACC_W] = s + prod_x;
            assign out_acc[p*ACC_W+:ACC_W] = s;
            cs_requant_core #(
                .ACC_W(ACC_W),
                .MULT_W(MULT_W),
                .SHIFT_W(SHIFT_W),
                .MAX_SHIFT(MAX_SHIFT),
                .OUT_W(OUT_W),
                .LO(LO),
                .HI(HI),
                .ROUNDING(ROUNDING)
            ) u_rq (
                .acc(s),
                .mult(mmem[ch]),
                .shift(smem[ch]),
                .q(out_data[p*OUT_W+:OUT_W])
            );
            wire unused_lane = &{1'b0, ch32[31:OA_W]};
        end
    endgenerate
    wire unused_addr = &{1'b0, waddr32[31:WA_W]};

    integer k;
    always @(posedge clk) begin
        if (clear) begin
            for (k = 0; k < OUT; k = k + 1) acc[k] <= bmem[k];
        end else if (step) begin
            for (k = 0; k < PE; k = k + 1)
            acc[ch_flat[k*OA_W+:OA_W]] <= sum_flat[k*ACC_W+:ACC_W];
        end
    end

    always @(posedge clk) begin
        if (!rst_n) begin
            busy <= 1'b0;
            emit <= 1'b0;
            fresh <= 1'b1;
            g <= {G_W{1'b0}};
            cur_idx <= {IDX_W{1'b0}};
            cur_delta <= {D_W{1'b0}};
        end else begin
            if (step) begin
                g <= g + 1'b1;
                if (last_g) busy <= 1'b0;
            end
            if (fire) begin
                g <= g + 1'b1;
                if (last_g) begin
                    busy <= 1'b0;
                    emit <= 1'b0;
                    fresh <= 1'b1;
                end
            end
            if (take) begin
                busy <= 1'b1;
                emit <= in_eof;
                fresh <= 1'b0;
                g <= {G_W{1'b0}};
                cur_idx <= in_idx;
                cur_delta <= in_delta;
            end
        end
    end
endmodule
