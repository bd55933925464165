`timescale 1ns / 1ps
// codenet_dw -- CoDeNet square deformable depthwise 3x3 unit (arXiv 2006.08357): a line-buffered
// window generator whose dilation comes per output pixel from the scale stream, a PE-lane
// depthwise MAC array and CoDeNet requantisation (cs_requant_codenet).
//
// Tap (ky, kx) in {-1,0,1}^2 of output pixel (y, x) reads input (y + ky*s, x + kx*s), with
// s = clamp((s_in + 4) >>> 3, -7, 8) from the s stream (one int8 per output pixel, S_FRAC = 3
// fractional bits); taps outside the image
// read -128 (the activation zero point, as CoDeNet's accelerator). |ky*s| <= SMAX = 8, so a ring
// of LB = 2*SMAX + 1 input rows holds every row a window can touch.
// Schedule: for r = 0 .. H-1+SMAX: if r < H load input row r (W * ng beats of PE int8 lanes,
// NHWC channel-minor); if r >= SMAX compute output row r - SMAX: per pixel accept s (1 cycle),
// then per channel group 9 tap reads (synchronous line-buffer RAM, one tap per cycle, +1 cycle
// pipeline) and one requantisation cycle. Cycles: H*W*ng load + H*W*(1 + ng*11) compute.
// Memories (host writes before a layer): weights word g*16 + k, lane p = w[g*PE + p][k];
// params word g, lane p = {bias[15:0], scale[15:0]}.
module codenet_dw #(
    parameter integer PE = 4,
    parameter integer CMAX = 32,
    parameter integer H = 16,
    parameter integer W = 16,
    parameter integer WB = 8,
    parameter integer ACC_W = 24,
    parameter integer SMAX = 8,
    parameter integer S_FRAC = 3,
    parameter integer GW = (CMAX / PE > 1) ? $clog2(CMAX / PE) : 1
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               start,
    input  wire [     GW-1:0] cfg_ng_m1,
    input  wire               cfg_relu,
    output wire               busy,
    input  wire               wr_w,
    input  wire               wr_p,
    input  wire [       15:0] wr_addr,
    input  wire [PE*32-1:0]   wr_data,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [ PE*8-1:0]   in_data,
    input  wire               s_valid,
    output wire               s_ready,
    input  wire [        7:0] s_data,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [ PE*8-1:0]   out_data
);
    localparam integer LB = 2 * SMAX + 1;
    localparam integer NG = CMAX / PE;
    localparam integer XW = $clog2(W) + 1;  // signed coordinates
    localparam integer YW = $clog2(H + SMAX) + 1;
    localparam integer SW = $clog2(LB) + 1;
    localparam integer RW = $clog2(H + SMAX);
    localparam integer AW = $clog2(LB * W * NG);
    localparam [2:0] S_IDLE = 3'd0, S_LOAD = 3'd1, S_SCALE = 3'd2, S_MAC = 3'd3, S_RQ = 3'd4,
                     S_NEXT = 3'd5;

    reg [PE*8-1:0] lbuf[0:LB*W*NG-1];
    reg [PE*WB-1:0] wmem[0:NG*16-1];
    reg [PE*32-1:0] pmem[0:NG-1];

    always @(posedge clk) begin
        if (wr_w) wmem[wr_addr[GW+3:0]] <= wr_data[PE*WB-1:0];
        if (wr_p) pmem[wr_addr[GW-1:0]] <= wr_data;
    end

    reg [2:0] state;
    reg [GW-1:0] ng_m1, g;
    reg relu;
    reg [RW-1:0] r;  // row step 0 .. H-1+SMAX
    reg [XW-2:0] lx;  // load column
    reg [SW-2:0] lslot;  // ring slot of the row being loaded
    reg [SW-2:0] cslot;  // ring slot of the row being computed
    reg [XW-2:0] cx;  // compute column
    reg signed [4:0] s;
    reg [3:0] k;  // tap counter 0..9 (reads issued at 0..8, MACs at 1..9)
    reg signed [ACC_W-1:0] acc[0:PE-1];

    wire [YW-1:0] cy = {1'b0, r} - SMAX[YW-1:0];  // computed row (valid when r >= SMAX)
    wire computing = (r >= SMAX[RW-1:0]);

    // tap geometry for tap k (ky = k/3 - 1, kx = k%3 - 1)
    wire signed [1:0] ky = (k < 4'd3) ? -2'sd1 : ((k < 4'd6) ? 2'sd0 : 2'sd1);
    wire signed [1:0] kx = (k == 4'd0 || k == 4'd3 || k == 4'd6) ? -2'sd1 :
                           ((k == 4'd1 || k == 4'd4 || k == 4'd7) ? 2'sd0 : 2'sd1);
    wire signed [5:0] dy = (ky == 2'sd0) ? 6'sd0 : ((ky == -2'sd1) ? -{s[4], s} : {s[4], s});
    wire signed [5:0] dx = (kx == 2'sd0) ? 6'sd0 : ((kx == -2'sd1) ? -{s[4], s} : {s[4], s});
    wire signed [YW+1:0] ty = $signed({2'b00, cy}) + {{(YW - 4) {dy[5]}}, dy};
    wire signed [XW+1:0] tx = $signed({3'b000, cx}) + {{(XW - 4) {dx[5]}}, dx};
    localparam [31:0] H32 = H;
    localparam [31:0] W32 = W;
    localparam [31:0] LB32 = LB;
    localparam signed [YW+1:0] H_S = H32[YW+1:0];
    localparam signed [XW+1:0] W_S = W32[XW+1:0];
    localparam signed [SW+1:0] LB_S = LB32[SW+1:0];
    wire tap_in = !ty[YW+1] && (ty < H_S) && !tx[XW+1] && (tx < W_S);
    wire signed [SW+1:0] slot0 = $signed({3'b000, cslot}) + {{(SW - 4) {dy[5]}}, dy};
    wire signed [SW+1:0] slot1 = slot0[SW+1] ? slot0 + LB_S : ((slot0 >= LB_S) ? slot0 - LB_S : slot0);
    wire [31:0] ra = ({{(33 - SW) {1'b0}}, slot1[SW-2:0]} * W + {{(33 - XW) {1'b0}}, tx[XW-2:0]}) * NG
        + {{(32 - GW) {1'b0}}, g};
    wire [31:0] wa = ({{(33 - SW) {1'b0}}, lslot} * W + {{(33 - XW) {1'b0}}, lx}) * NG
        + {{(32 - GW) {1'b0}}, g};
    wire [AW-1:0] raddr = ra[AW-1:0];
    wire [AW-1:0] waddr = wa[AW-1:0];

    reg [PE*8-1:0] rdata;
    reg rin;  // tap_in of the read issued last cycle
    reg [3:0] kd;  // tap index of the read issued last cycle
    always @(posedge clk) begin
        if (state == S_LOAD && in_valid) lbuf[waddr] <= in_data;
        rdata <= lbuf[raddr];
        rin <= tap_in;
        kd <= k;
    end

    wire [PE*WB-1:0] wword = wmem[{g, kd}];
    wire signed [ACC_W-1:0] prod[0:PE-1];
    genvar p;
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_pe
            wire signed [7:0] v = rin ? rdata[p*8+:8] : 8'sh80;  // outside: zero point -128
            wire signed [WB-1:0] wv = wword[p*WB+:WB];
            wire signed [WB+7:0] m = wv * v;
            assign prod[p] = {{(ACC_W - WB - 8) {m[WB+7]}}, m};
        end
    endgenerate

    wire rq_valid = (state == S_RQ);
    wire [PE-1:0] rq_in_ready, rq_out_valid;
    wire [PE*32-1:0] pword = pmem[g];
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_rq
            cs_requant_codenet #(
                .ACC_W(ACC_W),
                .SCALE_W(16),
                .BIAS_W(16),
                .SHIFT(16),
                .ACT_W(8)
            ) u_rq (
                .clk(clk),
                .rst_n(rst_n),
                .in_valid(rq_valid),
                .in_ready(rq_in_ready[p]),
                .in_acc(acc[p]),
                .in_scale(pword[p*32+:16]),
                .in_bias(pword[p*32+16+:16]),
                .in_relu(relu),
                .out_valid(rq_out_valid[p]),
                .out_ready(out_ready),
                .out_q(out_data[p*8+:8])
            );
        end
    endgenerate
    assign out_valid = rq_out_valid[0];
    assign in_ready = (state == S_LOAD);
    assign s_ready = (state == S_SCALE);
    assign busy = (state != S_IDLE) | out_valid;

    // s_data carries S_FRAC fractional bits: round half up, then clamp to [-7, 8]
    wire signed [8:0] s_sum = {s_data[7], s_data} + (9'sd1 <<< (S_FRAC - 1));
    wire signed [8:0] s_in = s_sum >>> S_FRAC;
    wire signed [4:0] s_clamped = (s_in < -9'sd7) ? -5'sd7 : ((s_in > 9'sd8) ? 5'sd8 : s_in[4:0]);
    wire last_row = (r == H[RW-1:0] + SMAX[RW-1:0] - 1'b1);

    integer i;
    always @(posedge clk) begin
        if (!rst_n) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE:
                if (start) begin
                    ng_m1 <= cfg_ng_m1;
                    relu <= cfg_relu;
                    r <= {RW{1'b0}};
                    lx <= {(XW - 1) {1'b0}};
                    cx <= {(XW - 1) {1'b0}};
                    g <= {GW{1'b0}};
                    lslot <= {(SW - 1) {1'b0}};
                    cslot <= {(SW - 1) {1'b0}};
                    state <= S_LOAD;
                end
                S_LOAD:
                if (in_valid) begin
                    if (g == ng_m1) begin
                        g <= {GW{1'b0}};
                        if (lx == W[XW-2:0] - 1'b1) begin
                            lx <= {(XW - 1) {1'b0}};
                            lslot <= (lslot == LB[SW-2:0] - 1'b1) ? {(SW - 1) {1'b0}} : lslot + 1'b1;
                            state <= computing ? S_SCALE : S_NEXT;
                        end else lx <= lx + 1'b1;
                    end else g <= g + 1'b1;
                end
                S_SCALE:
                if (s_valid) begin
                    s <= s_clamped;
                    k <= 4'd0;
                    g <= {GW{1'b0}};
                    state <= S_MAC;
                end
                S_MAC: begin
                    if (k != 4'd0)
                        for (i = 0; i < PE; i = i + 1)
                        acc[i] <= ((k == 4'd1) ? {ACC_W{1'b0}} : acc[i]) + prod[i];
                    if (k == 4'd9) state <= S_RQ;
                    else k <= k + 1'b1;
                end
                S_RQ:
                if (rq_in_ready[0]) begin
                    k <= 4'd0;
                    if (g == ng_m1) begin
                        g <= {GW{1'b0}};
                        if (cx == W[XW-2:0] - 1'b1) begin
                            cx <= {(XW - 1) {1'b0}};
                            cslot <= (cslot == LB[SW-2:0] - 1'b1) ? {(SW - 1) {1'b0}} : cslot + 1'b1;
                            state <= S_NEXT;
                        end else begin
                            cx <= cx + 1'b1;
                            state <= S_SCALE;
                        end
                    end else begin
                        g <= g + 1'b1;
                        state <= S_MAC;
                    end
                end
                S_NEXT: begin  // advance to the next row step
                    if (last_row) state <= S_IDLE;
                    else begin
                        r <= r + 1'b1;
                        if (r + 1'b1 < H[RW-1:0]) state <= S_LOAD;
                        else state <= S_SCALE;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    wire unused = &{1'b0, rq_in_ready, rq_out_valid, wr_addr, wr_data, ty, tx, slot1, cy, s_in, ra, wa};
endmodule
