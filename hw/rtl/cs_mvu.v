`timescale 1ns / 1ps
// cs_mvu -- streaming dense layer (matrix-vector unit): y = requant(W x + bias).
//
// W is M x N (out x in). Each cycle the unit multiplies SIMD inputs by PE x SIMD weights and
// accumulates PE outputs; a vector takes NF * SF cycles (NF = M/PE output folds, SF = N/SIMD
// input folds), i.e. MACs / (PE * SIMD). Output neuron o = nf*PE + p sits in lane p of beat nf.
//
// Parameters:
//   N, M          input / output features            PE, SIMD   output / input parallelism
//   IN_BEAT       input elements per input beat (N % IN_BEAT == 0)
//   IN_W          activation width, IN_SIGNED 1 = two's complement, 0 = unsigned
//   WMODE         0: memory holds signed integer weights (IDX_W == W_W bits, uniform quantizer)
//                 1: memory holds codebook indices, cs_lut_decode turns them into weights (POST)
//                 2: shift-only (POST with base 2): the table gives {zero, neg, k}, W_W = KW+2,
//                    and the product is +-(x << k) -- no multiplier
//   IDX_W         stored bits per weight               W_W    decoded weight width
//   ACC_W         signed accumulator width (> IN_W, > W_W; from DenseLayer.acc_bits)
//   MULT_W, SHIFT_W, MAX_SHIFT, OUT_W, OUT_LO, OUT_HI, ROUNDING: see cs_requant_core
//   W_FILE        weights: NF*SF words of PE*SIMD*IDX_W bits, lane (p, s) at bit (p*SIMD+s)*IDX_W
//   CB_FILE       codebook (WMODE 1, 2): 2**IDX_W entries of W_W bits
//   BIAS_FILE     NF words of PE*ACC_W bits; MULT_FILE NF x PE*MULT_W; SHIFT_FILE NF x PE*SHIFT_W
//   G_W           0: plain layer. > 0: dynamic input scale (a layer after an ASQ stage, cs_asq):
//                 every input beat carries the vector's factor g in in_data[IN_BEAT*IN_W +: G_W]
//                 and the output is requant(acc * g + bias) -- the bias joins after the scaling
//                 (DenseLayer.dyn_in; ACC_W from acc_bits covers acc * g + bias).
// Input buffer: two banks of N activations (double buffering), so the next vector streams in
//   while the current one is computed.
// Pipeline: [issue + multiply-accumulate] -> [requantise into the output register]; the weight
//   word is prefetched from cs_weight_rom so no cycle is spent on the read.
// Latency (no stalls): a full bank (visible the cycle after its last input beat) -> last output
//   beat valid: NF * SF + 1 cycles; a layer adds NF * SF + 2 cycles to a chain.
// Throughput: one vector per max(NF * SF, N / IN_BEAT) cycles.
// Handshake: valid/ready on both sides (AXI-Stream rules). in_ready depends only on state (no
//   combinational path from in_valid or out_ready). out_valid/out_data are registers held until
//   accepted; when the output register is full and not accepted the whole pipeline stalls.
// Reset: synchronous, active low.
module cs_mvu #(
    parameter integer N = 16,
    parameter integer M = 8,
    parameter integer PE = 2,
    parameter integer SIMD = 4,
    parameter integer IN_BEAT = 4,
    parameter integer IN_W = 8,
    parameter integer IN_SIGNED = 0,
    parameter integer WMODE = 1,
    parameter integer IDX_W = 4,
    parameter integer W_W = 6,
    parameter integer ACC_W = 20,
    parameter integer MULT_W = 16,
    parameter integer SHIFT_W = 5,
    parameter integer MAX_SHIFT = 31,
    parameter integer OUT_W = 8,
    parameter integer OUT_LO = 0,
    parameter integer OUT_HI = 255,
    parameter integer ROUNDING = 0,
    parameter W_FILE = "",
    parameter CB_FILE = "",
    parameter BIAS_FILE = "",
    parameter MULT_FILE = "",
    parameter SHIFT_FILE = "",
    parameter integer G_W = 0
) (
    input  wire                    clk,
    input  wire                    rst_n,
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire [IN_BEAT*IN_W+G_W-1:0] in_data,
    output reg                     out_valid,
    input  wire                    out_ready,
    output reg  [  PE*OUT_W-1:0]   out_data
);
    localparam integer SF = N / SIMD;
    localparam integer NF = M / PE;
    localparam integer BEATS = N / IN_BEAT;
    localparam integer WDEPTH = NF * SF;
    localparam integer LANES = PE * SIMD;
    localparam integer SF_W = (SF > 1) ? $clog2(SF) : 1;
    localparam integer NF_W = (NF > 1) ? $clog2(NF) : 1;
    localparam integer BT_W = (BEATS > 1) ? $clog2(BEATS) : 1;
    localparam integer WA_W = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
    localparam integer SF_LAST_I = SF - 1;
    localparam integer NF_LAST_I = NF - 1;
    localparam integer BT_LAST_I = BEATS - 1;
    localparam integer WA_LAST_I = WDEPTH - 1;
    localparam [SF_W-1:0] SF_LAST = SF_LAST_I[SF_W-1:0];
    localparam [NF_W-1:0] NF_LAST = NF_LAST_I[NF_W-1:0];
    localparam [BT_W-1:0] BT_LAST = BT_LAST_I[BT_W-1:0];
    localparam [WA_W-1:0] WA_LAST = WA_LAST_I[WA_W-1:0];
    localparam integer BW = IN_BEAT * IN_W;  // bits per input beat
    localparam integer RW = SIMD * IN_W;  // bits per SIMD row
    localparam integer KW = W_W - 2;  // shift amount width in WMODE 2
    localparam integer DYN = (G_W > 0) ? 1 : 0;
    localparam integer GW1 = (G_W > 0) ? G_W : 1;

    // ---------------------------------------------------------------- input buffer (2 banks)
    reg [N*IN_W-1:0] bank0, bank1;
    reg [1:0] full;
    reg wsel, rsel;
    reg [BT_W-1:0] wcnt;
    assign in_ready = ~full[wsel];
    wire in_fire = in_valid & in_ready;

    // ---------------------------------------------------------------- pipeline control
    reg primed;  // the weight ROM output holds mem[waddr]
    wire en = ~out_valid | out_ready;  // stall everything while the output is blocked
    wire bank_full = full[rsel];
    wire issue = bank_full & en & primed;
    reg [SF_W-1:0] sf;
    reg [NF_W-1:0] nf;
    reg [WA_W-1:0] waddr;
    wire bank_last = (waddr == WA_LAST);

    integer b;
    always @(posedge clk) begin
        if (!rst_n) begin
            full <= 2'b00;
            wsel <= 1'b0;
            wcnt <= {BT_W{1'b0}};
        end else begin
            if (in_fire) begin
                for (b = 0; b < BEATS; b = b + 1) begin
                    if (wcnt == b[BT_W-1:0]) begin
                        if (wsel) bank1[b*BW+:BW] <= in_data[BW-1:0];
                        else bank0[b*BW+:BW] <= in_data[BW-1:0];
                    end
                end
                if (wcnt == BT_LAST) begin
                    wcnt <= {BT_W{1'b0}};
                    full[wsel] <= 1'b1;
                    wsel <= ~wsel;
                end else begin
                    wcnt <= wcnt + 1'b1;
                end
            end
            if (issue & bank_last) full[rsel] <= 1'b0;
        end
    end

    // dynamic input scale: g of each bank (the beats of one vector all carry the same g)
    wire [GW1-1:0] g_rd;  // g of the bank being read
    generate
        if (DYN != 0) begin : g_bank
            reg [G_W-1:0] gb0, gb1;
            always @(posedge clk) begin
                if (in_fire) begin
                    if (wsel) gb1 <= in_data[BW+:G_W];
                    else gb0 <= in_data[BW+:G_W];
                end
            end
            assign g_rd = rsel ? gb1 : gb0;
        end else begin : g_none
            assign g_rd = 1'b1;
        end
    endgenerate

    // ---------------------------------------------------------------- issue + MAC (1 stage)
    // The weight word of the current address is prefetched (dout holds mem[waddr]), so the
    // multiply-accumulate of a fold happens in the cycle it is issued.
    wire [N*IN_W-1:0] rbank = rsel ? bank1 : bank0;
    reg  [  RW-1:0] xrow;
    integer s;
    always @* begin
        xrow = rbank[RW-1:0];
        for (s = 1; s < SF; s = s + 1) begin
            if (sf == s[SF_W-1:0]) xrow = rbank[s*RW+:RW];
        end
    end

    wire [WA_W-1:0] waddr_nx = bank_last ? {WA_W{1'b0}} : waddr + 1'b1;
    wire [LANES*IDX_W-1:0] wword;
    cs_weight_rom #(
        .DEPTH(WDEPTH),
        .WIDTH(LANES * IDX_W),
        .ADDR_W(WA_W),
        .FILE(W_FILE)
    ) wrom (
        .clk(clk),
        .en(issue | ~primed),
        .addr(issue ? waddr_nx : waddr),
        .dout(wword)
    );

    wire [LANES*W_W-1:0] wdec;
    genvar g;
    generate
        if (WMODE == 0) begin : g_plain
            assign wdec = wword;
        end else begin : g_lut
            cs_lut_decode #(
                .LANES(LANES),
                .IDX_W(IDX_W),
                .W_W(W_W),
                .CB_FILE(CB_FILE)
            ) dec (
                .idx(wword),
                .w(wdec)
            );
        end
    endgenerate

    // bias / multiplier / shift tables, one word per output fold
    reg [PE*ACC_W-1:0] bias_mem[0:NF-1];
    reg [PE*MULT_W-1:0] mult_mem[0:NF-1];
    reg [PE*SHIFT_W-1:0] shift_mem[0:NF-1];
    initial begin
        if (BIAS_FILE != "") $readmemh(BIAS_FILE, bias_mem);
        if (MULT_FILE != "") $readmemh(MULT_FILE, mult_mem);
        if (SHIFT_FILE != "") $readmemh(SHIFT_FILE, shift_mem);
    end
    wire [PE*ACC_W-1:0] bias_nf = bias_mem[nf];

    // one product at accumulator width (operands sign/zero-extended, so it is exact)
    function signed [ACC_W-1:0] mac_term;
        input [IN_W-1:0] x;
        input [W_W-1:0] w;
        reg signed [ACC_W-1:0] xa;
        reg signed [ACC_W-1:0] wa;
        begin
            if (IN_SIGNED != 0) xa = {{(ACC_W - IN_W) {x[IN_W-1]}}, x};
            else xa = {{(ACC_W - IN_W) {1'b0}}, x};
            if (WMODE == 2) begin
                // w = {zero, neg, k}: +-(x << k)
                wa = xa <<< w[KW-1:0];
                if (w[W_W-1]) mac_term = {ACC_W{1'b0}};
                else if (w[W_W-2]) mac_term = -wa;
                else mac_term = wa;
            end else begin
                wa = {{(ACC_W - W_W) {w[W_W-1]}}, w};
                mac_term = xa * wa;
            end
        end
    endfunction

    reg [PE*ACC_W-1:0] acc;
    reg [PE*ACC_W-1:0] acc_next;
    reg signed [ACC_W-1:0] dot;
    integer p, j;
    always @* begin
        for (p = 0; p < PE; p = p + 1) begin
            dot = {ACC_W{1'b0}};
            for (j = 0; j < SIMD; j = j + 1) begin
                dot = dot + mac_term(xrow[j*IN_W+:IN_W], wdec[(p*SIMD+j)*W_W+:W_W]);
            end
            if (sf == {SF_W{1'b0}})
                acc_next[p*ACC_W+:ACC_W] = (DYN != 0 ? {ACC_W{1'b0}} : bias_nf[p*ACC_W+:ACC_W]) + dot;
            else acc_next[p*ACC_W+:ACC_W] = acc[p*ACC_W+:ACC_W] + dot;
        end
    end

    reg acc_done;  // acc holds a finished output fold (r_nf)
    reg [NF_W-1:0] r_nf;
    reg [GW1-1:0] r_g;  // g of the vector whose fold is in acc
    always @(posedge clk) begin
        if (!rst_n) begin
            primed <= 1'b0;
            sf <= {SF_W{1'b0}};
            nf <= {NF_W{1'b0}};
            waddr <= {WA_W{1'b0}};
            rsel <= 1'b0;
            acc <= {(PE * ACC_W) {1'b0}};
            acc_done <= 1'b0;
            r_nf <= {NF_W{1'b0}};
            r_g <= {GW1{1'b0}};
        end else begin
            primed <= 1'b1;
            if (en) acc_done <= issue & (sf == SF_LAST);
            if (issue) begin
                acc <= acc_next;
                waddr <= waddr_nx;
                if (bank_last) rsel <= ~rsel;
                if (sf == SF_LAST) begin
                    r_nf <= nf;
                    r_g <= g_rd;
                    sf <= {SF_W{1'b0}};
                    nf <= (nf == NF_LAST) ? {NF_W{1'b0}} : nf + 1'b1;
                end else begin
                    sf <= sf + 1'b1;
                end
            end
        end
    end

    // ---------------------------------------------------------------- requantise -> output
    wire [PE*MULT_W-1:0] r_mult = mult_mem[r_nf];
    wire [PE*SHIFT_W-1:0] r_shift = shift_mem[r_nf];
    wire [PE*ACC_W-1:0] r_bias = bias_mem[r_nf];
    wire [PE*OUT_W-1:0] r_q;
    generate
        if (DYN == 0) begin : g_static
            wire unused_dyn = &{1'b0, r_bias, r_g};
        end
        for (g = 0; g < PE; g = g + 1) begin : g_rq
            wire [ACC_W-1:0] rq_acc;
            if (DYN != 0) begin : g_scale  // acc * g + bias
                wire signed [ACC_W-1:0] a = acc[g*ACC_W+:ACC_W];
                wire signed [ACC_W-1:0] gx = {{(ACC_W - GW1) {1'b0}}, r_g};
                wire signed [ACC_W-1:0] bx = r_bias[g*ACC_W+:ACC_W];
                assign rq_acc = a * gx + bx;
            end else begin : g_plain
                assign rq_acc = acc[g*ACC_W+:ACC_W];
            end
            cs_requant_core #(
                .ACC_W(ACC_W),
                .MULT_W(MULT_W),
                .SHIFT_W(SHIFT_W),
                .MAX_SHIFT(MAX_SHIFT),
                .OUT_W(OUT_W),
                .LO(OUT_LO),
                .HI(OUT_HI),
                .ROUNDING(ROUNDING)
            ) rq (
                .acc(rq_acc),
                .mult(r_mult[g*MULT_W+:MULT_W]),
                .shift(r_shift[g*SHIFT_W+:SHIFT_W]),
                .q(r_q[g*OUT_W+:OUT_W])
            );
        end
    endgenerate

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_data <= {(PE * OUT_W) {1'b0}};
        end else if (en) begin
            out_valid <= acc_done;
            if (acc_done) out_data <= r_q;
        end
    end
endmodule
