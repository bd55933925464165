`timescale 1ns / 1ps
// codenet_pw -- CoDeNet 1x1 convolution unit: a PA x PE multiply array (arXiv 2006.08357,
// hqjenny/CoDeNet hls/top: 1x1 unit PA x PE = 16 x 16 on Ultra96).
//
// Per pixel (NHWC stream, channel-minor): LOAD cin/PA beats of PA int8 lanes into a pixel
// buffer; then for each output group og (PE channels) MAC over cin/PA input groups, PE x PA
// products per cycle; requantise the PE accumulators with cs_requant_codenet (CoDeNet rule:
// ((acc*scale + 2^15) >>> 16) + bias, ReLU -> max(q,0) - 128, clamp) and emit one beat of PE
// int8 lanes. Cycles per pixel with a ready sink: cin/PA + (cout/PE) * (cin/PA + 1).
// Memories (written by the host before a layer through wr_*):
//   weights: word og*(CMAX/PA) + ig, lane (p*PA + a) = w[og*PE + p][ig*PA + a] (WB-bit signed)
//   params : word og, lane p = {bias[15:0], scale[15:0]} of channel og*PE + p
// Handshake: valid/ready on in_*, out_*; `start` (one cycle, unit idle) begins a layer of
// cfg_npix_m1 + 1 pixels with (cfg_ni_m1 + 1) * PA inputs and (cfg_no_m1 + 1) * PE outputs.
// CMAX/PA and CMAX/PE must be powers of two (memory words are addressed {og, ig}).
module codenet_pw #(
    parameter integer PA = 4,
    parameter integer PE = 4,
    parameter integer CMAX = 32,
    parameter integer WB = 8,
    parameter integer ACC_W = 24,
    parameter integer NPIX_W = 16,
    parameter integer IW = (CMAX / PA > 1) ? $clog2(CMAX / PA) : 1,
    parameter integer OW = (CMAX / PE > 1) ? $clog2(CMAX / PE) : 1
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire                   start,
    input  wire [         IW-1:0] cfg_ni_m1,
    input  wire [         OW-1:0] cfg_no_m1,
    input  wire                   cfg_relu,
    input  wire [     NPIX_W-1:0] cfg_npix_m1,
    output wire                   busy,
    input  wire                   wr_w,
    input  wire                   wr_p,
    input  wire [           15:0] wr_addr,
    input  wire [PE*PA*WB-1:0]    wr_data,
    input  wire                   in_valid,
    output wire                   in_ready,
    input  wire [      PA*8-1:0]  in_data,
    output wire                   out_valid,
    input  wire                   out_ready,
    output wire [      PE*8-1:0]  out_data
);
    localparam integer NIMAX = CMAX / PA;
    localparam integer NOMAX = CMAX / PE;
    localparam integer PW = 32 * PE;
    localparam [1:0] S_IDLE = 2'd0, S_LOAD = 2'd1, S_MAC = 2'd2, S_RQ = 2'd3;

    reg [PE*PA*WB-1:0] wmem[0:NIMAX*NOMAX-1];
    reg [PW-1:0] pmem[0:NOMAX-1];
    reg [PA*8-1:0] xbuf[0:NIMAX-1];

    reg [1:0] state;
    reg [IW-1:0] ni_m1, ig;
    reg [OW-1:0] no_m1, og;
    reg relu;
    reg [NPIX_W-1:0] npix_m1, pix;
    reg signed [ACC_W-1:0] acc[0:PE-1];

    always @(posedge clk) begin
        if (wr_w) wmem[wr_addr[IW+OW-1:0]] <= wr_data;
        if (wr_p) pmem[wr_addr[OW-1:0]] <= wr_data[PW-1:0];
    end

    wire [PE*PA*WB-1:0] wword = wmem[{og, ig}];
    wire [PA*8-1:0] xword = xbuf[ig];
    wire [PW-1:0] pword = pmem[og];

    // PE x PA products, summed per output lane
    wire signed [ACC_W-1:0] psum[0:PE-1];
    genvar p, a;
    generate
        for (p = 0; p < PE; p = p + 1) begin : g_pe
            wire signed [ACC_W-1:0] part[0:PA];
            assign part[0] = {ACC_W{1'b0}};
            for (a = 0; a < PA; a = a + 1) begin : g_pa
                wire signed [WB-1:0] w = wword[(p*PA+a)*WB+:WB];
                wire signed [7:0] x = xword[a*8+:8];
                wire signed [WB+7:0] prod = w * x;
                assign part[a+1] = part[a] + {{(ACC_W - WB - 8) {prod[WB+7]}}, prod};
            end
            assign psum[p] = part[PA];
        end
    endgenerate

    // requantisation: one cs_requant_codenet per lane (1-cycle latency, valid/ready)
    wire rq_valid = (state == S_RQ);
    wire [PE-1:0] rq_in_ready, rq_out_valid;
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
    assign busy = (state != S_IDLE) | out_valid;

    integer i;
    always @(posedge clk) begin
        if (!rst_n) begin
            state <= S_IDLE;
            ig <= {IW{1'b0}};
            og <= {OW{1'b0}};
            pix <= {NPIX_W{1'b0}};
        end else begin
            case (state)
                S_IDLE:
                if (start) begin
                    ni_m1 <= cfg_ni_m1;
                    no_m1 <= cfg_no_m1;
                    relu <= cfg_relu;
                    npix_m1 <= cfg_npix_m1;
                    pix <= {NPIX_W{1'b0}};
                    ig <= {IW{1'b0}};
                    state <= S_LOAD;
                end
                S_LOAD:
                if (in_valid) begin
                    xbuf[ig] <= in_data;
                    if (ig == ni_m1) begin
                        ig <= {IW{1'b0}};
                        og <= {OW{1'b0}};
                        state <= S_MAC;
                    end else ig <= ig + 1'b1;
                end
                S_MAC: begin
                    for (i = 0; i < PE; i = i + 1)
                    acc[i] <= ((ig == {IW{1'b0}}) ? {ACC_W{1'b0}} : acc[i]) + psum[i];
                    if (ig == ni_m1) begin
                        ig <= {IW{1'b0}};
                        state <= S_RQ;
                    end else ig <= ig + 1'b1;
                end
                S_RQ:
                if (rq_in_ready[0]) begin
                    if (og == no_m1) begin
                        og <= {OW{1'b0}};
                        if (pix == npix_m1) state <= S_IDLE;
                        else begin
                            pix <= pix + 1'b1;
                            state <= S_LOAD;
                        end
                    end else begin
                        og <= og + 1'b1;
                        state <= S_MAC;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    wire unused = &{1'b0, rq_in_ready[PE-1:0], rq_out_valid[PE-1:0], wr_addr, wr_data};
endmodule
