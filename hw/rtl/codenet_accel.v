`timescale 1ns / 1ps
// codenet_accel -- CoDeNet-style layer accelerator (arXiv 2006.08357; hqjenny/CoDeNet hls/top):
// a 1x1 conv unit (codenet_pw, PA x PE) and a square-deformable depthwise 3x3 unit
// (codenet_dw, PE lanes, line-buffered, dilation per pixel from the s stream), one active per
// layer as the host selects, as the CoDeNet accelerator is driven layer by layer.
//
// Host protocol per layer: write weights and {bias, scale} words (wr_en, wr_sel: 0 pw weights,
// 1 pw params, 2 dw weights, 3 dw params), set cfg_* and pulse `start` while !busy, then stream
// the input feature map (NHWC, channel-minor; PA lanes per beat for pw, PE for dw) on in_*, the
// scale map on s_* (dw), and take PE output lanes per beat on out_*. All int8 two's complement.
module codenet_accel #(
    parameter integer PA = 4,
    parameter integer PE = 4,
    parameter integer CMAX = 32,
    parameter integer H = 16,
    parameter integer W = 16,
    parameter integer WB = 8,
    parameter integer ACC_W = 24,
    parameter integer IW = (CMAX / PA > 1) ? $clog2(CMAX / PA) : 1,
    parameter integer OW = (CMAX / PE > 1) ? $clog2(CMAX / PE) : 1,
    parameter integer LN = (PA > PE) ? PA : PE,
    parameter integer DW = (PE * PA * WB > PE * 32) ? PE * PA * WB : PE * 32
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire            start,
    input  wire            cfg_mode,
    input  wire [  IW-1:0] cfg_ni_m1,
    input  wire [  OW-1:0] cfg_no_m1,
    input  wire            cfg_relu,
    input  wire [    15:0] cfg_npix_m1,
    output wire            busy,
    input  wire            wr_en,
    input  wire [     1:0] wr_sel,
    input  wire [    15:0] wr_addr,
    input  wire [  DW-1:0] wr_data,
    input  wire            in_valid,
    output wire            in_ready,
    input  wire [LN*8-1:0] in_data,
    input  wire            s_valid,
    output wire            s_ready,
    input  wire [     7:0] s_data,
    output wire            out_valid,
    input  wire            out_ready,
    output wire [PE*8-1:0] out_data
);
    wire pw_busy, dw_busy, pw_in_ready, dw_in_ready, pw_out_valid, dw_out_valid;
    wire [PE*8-1:0] pw_out, dw_out;

    codenet_pw #(
        .PA(PA),
        .PE(PE),
        .CMAX(CMAX),
        .WB(WB),
        .ACC_W(ACC_W),
        .NPIX_W(16)
    ) u_pw (
        .clk(clk),
        .rst_n(rst_n),
        .start(start & ~cfg_mode),
        .cfg_ni_m1(cfg_ni_m1),
        .cfg_no_m1(cfg_no_m1),
        .cfg_relu(cfg_relu),
        .cfg_npix_m1(cfg_npix_m1),
        .busy(pw_busy),
        .wr_w(wr_en && wr_sel == 2'd0),
        .wr_p(wr_en && wr_sel == 2'd1),
        .wr_addr(wr_addr),
        .wr_data(wr_data[PE*PA*WB-1:0]),
        .in_valid(in_valid & ~cfg_mode),
        .in_ready(pw_in_ready),
        .in_data(in_data[PA*8-1:0]),
        .out_valid(pw_out_valid),
        .out_ready(out_ready & ~cfg_mode),
        .out_data(pw_out)
    );

    codenet_dw #(
        .PE(PE),
        .CMAX(CMAX),
        .H(H),
        .W(W),
        .WB(WB),
        .ACC_W(ACC_W)
    ) u_dw (
        .clk(clk),
        .rst_n(rst_n),
        .start(start & cfg_mode),
        .cfg_ng_m1(cfg_no_m1),
        .cfg_relu(cfg_relu),
        .busy(dw_busy),
        .wr_w(wr_en && wr_sel == 2'd2),
        .wr_p(wr_en && wr_sel == 2'd3),
        .wr_addr(wr_addr),
        .wr_data(wr_data[PE*32-1:0]),
        .in_valid(in_valid & cfg_mode),
        .in_ready(dw_in_ready),
        .in_data(in_data[PE*8-1:0]),
        .s_valid(s_valid & cfg_mode),
        .s_ready(s_ready),
        .s_data(s_data),
        .out_valid(dw_out_valid),
        .out_ready(out_ready & cfg_mode),
        .out_data(dw_out)
    );

    assign busy = pw_busy | dw_busy;
    assign in_ready = cfg_mode ? dw_in_ready : pw_in_ready;
    assign out_valid = cfg_mode ? dw_out_valid : pw_out_valid;
    assign out_data = cfg_mode ? dw_out : pw_out;

    wire unused = &{1'b0, in_data, wr_data};
endmodule
