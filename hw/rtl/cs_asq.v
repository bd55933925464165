`timescale 1ns / 1ps
// cs_asq -- ASQ activation stage: adapter datapath + dynamic-step quantiser (arXiv 2504.17263).
//
// For each C-element vector u (unsigned U_W-bit codes) this computes the integer rule of
// codesign/quant/asq_int.py:
//   h[j] = clamp(round((sum_c W1[j][c] u[c] + b1[j]) * m1[j] / 2**sh1[j]), 0, 2**H_W - 1)
//   g    = clamp(round((sum_j W2[j] h[j] + B2) * M2 / 2**SH2), 1, 2**G - 1)
//   q[c] = clamp(round(u[c] * 2**K / g), 0, 2**BITS - 1)
// (round = half to even) and streams out the codes q, LANES per beat, with the sample's g in
// the top G bits of every beat: out_data = {g, q[LANES-1], ..., q[0]} -- the input format of a
// dynamic-scale consumer (cs_mvu with G_W = G, or cs_requant with DYN = 1).
// The division is a restoring divider per lane: t = floor(2N / D) in BITS + 1 steps with
// N = u << max(K, 0), D = g << max(-K, 0); q = (t >> 1) + (t odd & (remainder != 0 | floor odd)),
// and 2N >= D << (BITS + 1) saturates to 2**BITS - 1.
//
// Parameters:
//   C, H          vector length, adapter hidden width      IN_BEAT  u codes per input beat
//   U_W           input code width (unsigned)              W_W      adapter weight width (signed)
//   ACC1_W, M1_W, SH1_W, MAX_SH1   adapter layer 1 accumulator / requant multiplier / shift
//   H_W           hidden code width (unsigned, clamp 0 .. 2**H_W - 1)
//   ACC2_W, M2_W, SH2_W            adapter layer 2 accumulator / multiplier / shift widths
//   B2, M2, SH2   layer 2 bias, multiplier, shift (one output: parameters)
//   G             width of g                               BITS     width of q
//   K             signed shift k = Gf + e_u - e_base       LANES    dividers = q codes per beat
//   W1_FILE       C words of H*W_W bits: word c holds W1[j][c] in lane j (bit j*W_W)
//   B1_FILE, M1_FILE, SH1_FILE   H words each (ACC1_W, M1_W, SH1_W bits)
//   W2_FILE       H words of W_W bits
// Schedule per vector (no stalls): C/IN_BEAT input beats, C cycles of layer 1 (H MACs in
//   parallel), H cycles of hidden requantisation, H cycles of layer 2, 1 cycle for g, then
//   C/LANES groups of BITS + 1 divider cycles + 1 output cycle. Latency = that sum;
//   throughput one vector per latency (the input is accepted only between vectors).
// Handshake: valid/ready (AXI-Stream rules) on both sides; in_ready is high only while
//   collecting a vector; out_valid/out_data are registers held until accepted.
//   The internal register h_vec (H*H_W bits, for testbenches) holds the sample's hidden codes
//   from its first output beat until the next vector.
// Reset: synchronous, active low.
module cs_asq #(
    parameter integer C = 16,
    parameter integer H = 4,
    parameter integer IN_BEAT = 4,
    parameter integer U_W = 8,
    parameter integer W_W = 8,
    parameter integer ACC1_W = 20,
    parameter integer M1_W = 16,
    parameter integer SH1_W = 5,
    parameter integer MAX_SH1 = 31,
    parameter integer H_W = 8,
    parameter integer ACC2_W = 20,
    parameter integer M2_W = 16,
    parameter integer SH2_W = 5,
    parameter integer B2 = 0,
    parameter integer M2 = 1,
    parameter integer SH2 = 0,
    parameter integer G = 8,
    parameter integer BITS = 4,
    parameter integer K = 0,
    parameter integer LANES = 1,
    parameter W1_FILE = "",
    parameter B1_FILE = "",
    parameter M1_FILE = "",
    parameter SH1_FILE = "",
    parameter W2_FILE = ""
) (
    input  wire                    clk,
    input  wire                    rst_n,
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire [IN_BEAT*U_W-1:0]  in_data,
    output reg                     out_valid,
    input  wire                    out_ready,
    output wire [G+LANES*BITS-1:0] out_data
);
    localparam integer BEATS = C / IN_BEAT;
    localparam integer GROUPS = C / LANES;
    localparam integer T = BITS + 1;  // quotient bits of floor(2N / D)
    localparam integer KP = (K > 0) ? K : 0;
    localparam integer KN = (K < 0) ? -K : 0;
    localparam integer X_W = U_W + KP + 1;  // 2N
    localparam integer D_W = G + KN;  // D
    localparam integer R_W = ((X_W > D_W + T) ? X_W : D_W + T) + 1;
    localparam integer CW = (C > 1) ? $clog2(C) : 1;
    localparam integer HC_W = (H > 1) ? $clog2(H) : 1;
    localparam integer TW = $clog2(T + 1);
    localparam integer GR_W = (GROUPS > 1) ? $clog2(GROUPS) : 1;
    localparam integer BT_W = (BEATS > 1) ? $clog2(BEATS) : 1;
    localparam integer C_LAST_I = C - 1;
    localparam integer H_LAST_I = H - 1;
    localparam integer GR_LAST_I = GROUPS - 1;
    localparam integer BT_LAST_I = BEATS - 1;
    localparam [CW-1:0] C_LAST = C_LAST_I[CW-1:0];
    localparam [HC_W-1:0] H_LAST = H_LAST_I[HC_W-1:0];
    localparam [GR_W-1:0] GR_LAST = GR_LAST_I[GR_W-1:0];
    localparam [BT_W-1:0] BT_LAST = BT_LAST_I[BT_W-1:0];
    localparam integer QMAX = (1 << BITS) - 1;
    localparam integer GMAX = (1 << G) - 1;
    localparam integer HMAX = (1 << H_W) - 1;

    reg [LANES*BITS-1:0] out_q;
    reg [G-1:0] out_g;  // the sample's g
    reg [H*H_W-1:0] h_vec;  // the sample's hidden codes
    assign out_data = {out_g, out_q};

    localparam [2:0] S_IN = 3'd0, S_L1 = 3'd1, S_H = 3'd2, S_L2 = 3'd3, S_G = 3'd4,
        S_DIV = 3'd5, S_OUT = 3'd6;
    reg [2:0] state;

    // ---------------------------------------------------------------- tables
    reg [H*W_W-1:0] w1_mem[0:C-1];
    reg [ACC1_W-1:0] b1_mem[0:H-1];
    reg [M1_W-1:0] m1_mem[0:H-1];
    reg [SH1_W-1:0] sh1_mem[0:H-1];
    reg [W_W-1:0] w2_mem[0:H-1];
    initial begin
        if (W1_FILE != "") $readmemh(W1_FILE, w1_mem);
        if (B1_FILE != "") $readmemh(B1_FILE, b1_mem);
        if (M1_FILE != "") $readmemh(M1_FILE, m1_mem);
        if (SH1_FILE != "") $readmemh(SH1_FILE, sh1_mem);
        if (W2_FILE != "") $readmemh(W2_FILE, w2_mem);
    end
    localparam signed [ACC2_W+31:0] B2_W = {{ACC2_W{B2[31]}}, B2};
    localparam [M2_W+31:0] M2_WX = {{M2_W{1'b0}}, M2};
    localparam [SH2_W+31:0] SH2_WX = {{SH2_W{1'b0}}, SH2};

    // ---------------------------------------------------------------- input buffer
    reg [C*U_W-1:0] ubuf;
    reg [BT_W-1:0] bcnt;
    assign in_ready = (state == S_IN);
    wire in_fire = in_valid & in_ready;

    // ---------------------------------------------------------------- adapter datapath
    reg [CW-1:0] c;  // layer-1 input index
    reg [HC_W-1:0] j;  // hidden index
    reg [H*ACC1_W-1:0] acc1;
    reg signed [ACC2_W-1:0] acc2;

    wire [U_W-1:0] u_c = ubuf[c*U_W+:U_W];
    wire [H*W_W-1:0] w1_c = w1_mem[c];

    function signed [ACC1_W-1:0] mac1;
        input [U_W-1:0] u;
        input [W_W-1:0] w;
        reg signed [ACC1_W-1:0] ua, wa;
        begin
            ua = {{(ACC1_W - U_W) {1'b0}}, u};
            wa = {{(ACC1_W - W_W) {w[W_W-1]}}, w};
            mac1 = ua * wa;
        end
    endfunction

    wire [ACC1_W-1:0] acc1_j = acc1[j*ACC1_W+:ACC1_W];
    wire [H_W-1:0] h_q;
    cs_requant_core #(
        .ACC_W(ACC1_W),
        .MULT_W(M1_W),
        .SHIFT_W(SH1_W),
        .MAX_SHIFT(MAX_SH1),
        .OUT_W(H_W),
        .LO(0),
        .HI(HMAX),
        .ROUNDING(0)
    ) rq1 (
        .acc(acc1_j),
        .mult(m1_mem[j]),
        .shift(sh1_mem[j]),
        .q(h_q)
    );

    wire [H_W-1:0] h_j = h_vec[j*H_W+:H_W];
    wire [W_W-1:0] w2_j = w2_mem[j];
    wire signed [ACC2_W-1:0] h_x = {{(ACC2_W - H_W) {1'b0}}, h_j};
    wire signed [ACC2_W-1:0] w2_x = {{(ACC2_W - W_W) {w2_j[W_W-1]}}, w2_j};
    wire signed [ACC2_W-1:0] mac2 = h_x * w2_x;

    wire [G-1:0] g_q;
    cs_requant_core #(
        .ACC_W(ACC2_W),
        .MULT_W(M2_W),
        .SHIFT_W(SH2_W),
        .MAX_SHIFT(SH2),
        .OUT_W(G),
        .LO(1),
        .HI(GMAX),
        .ROUNDING(0)
    ) rq2 (
        .acc(acc2),
        .mult(M2_WX[M2_W-1:0]),
        .shift(SH2_WX[SH2_W-1:0]),
        .q(g_q)
    );

    // ---------------------------------------------------------------- dividers
    reg [GR_W-1:0] grp;
    reg [TW-1:0] it;
    reg [LANES*R_W-1:0] rem;
    reg [LANES*T-1:0] tq;
    reg [LANES-1:0] sat;
    reg [R_W-1:0] dsh;  // D << (remaining steps - 1), shared by the lanes

    wire [G-1:0] g_src = (state == S_G) ? g_q : out_g;  // the sample's g
    wire [R_W-1:0] d_full = {{(R_W - G) {1'b0}}, g_src} << KN;  // D
    wire [R_W-1:0] d_init = d_full << (T - 1);
    wire [R_W-1:0] d_sat = d_full << T;

    // load values for group `ld_grp`
    wire [GR_W-1:0] ld_grp = (state == S_G) ? {GR_W{1'b0}} : grp + 1'b1;
    reg [LANES*R_W-1:0] x_ld;
    reg [LANES-1:0] sat_ld;
    reg [R_W-1:0] xv;
    integer l;
    always @* begin
        for (l = 0; l < LANES; l = l + 1) begin
            xv = {{(R_W - U_W) {1'b0}}, ubuf[(ld_grp*LANES+l)*U_W+:U_W]} << (KP + 1);
            x_ld[l*R_W+:R_W] = xv;
            sat_ld[l] = (xv >= d_sat);
        end
    end

    // one restoring step, and the rounded codes after the last step
    reg [LANES*R_W-1:0] rem_nx;
    reg [LANES*T-1:0] tq_nx;
    reg [LANES*BITS-1:0] q_nx;
    reg [R_W-1:0] rv;
    reg [T-1:0] tv;
    reg [BITS:0] qv;
    reg ge;
    always @* begin
        for (l = 0; l < LANES; l = l + 1) begin
            rv = rem[l*R_W+:R_W];
            ge = (rv >= dsh);
            rv = ge ? rv - dsh : rv;
            tv = {tq[l*T+:T-1], ge};
            rem_nx[l*R_W+:R_W] = rv;
            tq_nx[l*T+:T] = tv;
            qv = {1'b0, tv[T-1:1]} + {{BITS{1'b0}}, tv[0] & ((|rv) | tv[1])};
            if (sat[l] || qv > QMAX[BITS:0]) q_nx[l*BITS+:BITS] = QMAX[BITS-1:0];
            else q_nx[l*BITS+:BITS] = qv[BITS-1:0];
        end
    end

    // ---------------------------------------------------------------- control
    integer p;
    always @(posedge clk) begin
        if (!rst_n) begin
            state <= S_IN;
            bcnt <= {BT_W{1'b0}};
            c <= {CW{1'b0}};
            j <= {HC_W{1'b0}};
            grp <= {GR_W{1'b0}};
            it <= {TW{1'b0}};
            out_valid <= 1'b0;
            out_q <= {(LANES * BITS) {1'b0}};
            out_g <= {G{1'b0}};
        end else begin
            case (state)
                S_IN:
                if (in_fire) begin
                    for (p = 0; p < BEATS; p = p + 1) begin
                        if (bcnt == p[BT_W-1:0]) ubuf[p*IN_BEAT*U_W+:IN_BEAT*U_W] <= in_data;
                    end
                    if (bcnt == BT_LAST) begin
                        bcnt <= {BT_W{1'b0}};
                        c <= {CW{1'b0}};
                        for (p = 0; p < H; p = p + 1) acc1[p*ACC1_W+:ACC1_W] <= b1_mem[p];
                        state <= S_L1;
                    end else begin
                        bcnt <= bcnt + 1'b1;
                    end
                end
                S_L1: begin
                    for (p = 0; p < H; p = p + 1) begin
                        acc1[p*ACC1_W+:ACC1_W] <= acc1[p*ACC1_W+:ACC1_W] +
                            mac1(u_c, w1_c[p*W_W+:W_W]);
                    end
                    if (c == C_LAST) begin
                        j <= {HC_W{1'b0}};
                        state <= S_H;
                    end else begin
                        c <= c + 1'b1;
                    end
                end
                S_H: begin
                    for (p = 0; p < H; p = p + 1) begin
                        if (j == p[HC_W-1:0]) h_vec[p*H_W+:H_W] <= h_q;
                    end
                    if (j == H_LAST) begin
                        j <= {HC_W{1'b0}};
                        acc2 <= B2_W[ACC2_W-1:0];
                        state <= S_L2;
                    end else begin
                        j <= j + 1'b1;
                    end
                end
                S_L2: begin
                    acc2 <= acc2 + mac2;
                    if (j == H_LAST) state <= S_G;
                    else j <= j + 1'b1;
                end
                S_G: state <= S_DIV;
                default: ;
            endcase

            // dividers: loaded from S_G (group 0, with g_q) or after an output beat is taken
            if (state == S_G || (state == S_OUT && out_ready && grp != GR_LAST)) begin
                rem <= x_ld;
                sat <= sat_ld;
                tq <= {(LANES * T) {1'b0}};
                dsh <= d_init;
                it <= T[TW-1:0];
                grp <= ld_grp;
                if (state == S_G) out_g <= g_q;
            end
            if (state == S_DIV) begin
                rem <= rem_nx;
                tq <= tq_nx;
                dsh <= dsh >> 1;
                it <= it - 1'b1;
                if (it == 1) begin
                    out_q <= q_nx;
                    out_valid <= 1'b1;
                    state <= S_OUT;
                end
            end
            if (state == S_OUT && out_ready) begin
                out_valid <= 1'b0;
                if (grp == GR_LAST) state <= S_IN;
                else state <= S_DIV;
            end
        end
    end

endmodule
