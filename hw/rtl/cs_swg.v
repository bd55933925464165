`timescale 1ns / 1ps
// cs_swg -- sliding-window generator: an image stream in, its convolution windows out.
//
// In:  one pixel per beat (all C channels, channel 0 in the low E_W bits), row by row, H x W
//      pixels per image, images back to back.
// Out: for each output pixel (ho, wo) in row-major order, KH * KW beats, one per tap (kh, kw)
//      in row-major order, each beat the C channels of input pixel
//          (ho * SH - PT + kh * DH,  wo * SW - PL + kw * DW),
//      or PAD_WORD (the input zero point, per channel) where that pixel lies in the padding.
//      A beat sequence of one output pixel is the im2col column in (kh, kw, c) order, which is
//      what cs_mvu takes as one input vector (SIMD = C, or a width converter in between).
//      Output size: HO = (H + PT + PB - DH * (KH - 1) - 1) / SH + 1, WO likewise.
// Storage: a line buffer of E = DH * (KH - 1) + 1 rows of W pixels (a ring: row r in slot
//      r mod E), not the whole image. The writer may fill row r only once row r - E is no longer
//      needed by the window being read; the reader emits a window once every row it touches
//      has been written. An image's windows are all read before the next image is written.
// Handshake: valid/ready (AXI-Stream rules) on both sides; out_valid/out_data hold until taken.
// Reset: synchronous, active low. Latency: 1 cycle from the last needed pixel to its window.
// Throughput: one output beat per cycle while windows are available; per image about
//      HO * WO * KH * KW cycles plus the rows the first window waits for.
module cs_swg #(
    parameter integer C = 2,
    parameter integer E_W = 8,
    parameter integer H = 6,
    parameter integer W = 6,
    parameter integer KH = 3,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer DH = 1,
    parameter integer DW = 1,
    parameter integer PT = 0,
    parameter integer PL = 0,
    parameter integer PB = 0,
    parameter integer PR = 0,
    parameter [C*E_W-1:0] PAD_WORD = {(C * E_W) {1'b0}}
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [C*E_W-1:0]   in_data,
    output reg                out_valid,
    input  wire               out_ready,
    output reg  [C*E_W-1:0]   out_data
);
    localparam integer E = DH * (KH - 1) + 1;  // rows one window spans
    localparam integer HO = (H + PT + PB - E) / SH + 1;
    localparam integer WO = (W + PL + PR - DW * (KW - 1) - 1) / SW + 1;
    localparam integer DEPTH = E * W;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    // signed coordinate registers: wide enough for every coordinate and step, plus a sign bit
    localparam integer SPAN = H + PT + PB + W + PL + PR + E + DW * KW + SH + SW + DEPTH;
    localparam integer CW = $clog2(SPAN + 1) + 2;
    localparam integer SLOT0 = (E - (PT % E)) % E;  // (-PT) mod E: slot of the first base row
    localparam integer SH_MOD = SH % E;
    localparam [31:0] LAST_W = DEPTH - 1;
    localparam [AW-1:0] LAST_ADDR = LAST_W[AW-1:0];

    // the constants at the registers' width (Verilog-2005: through 32-bit localparams)
    localparam [31:0] H_32 = H;
    localparam [31:0] W_32 = W;
    localparam [31:0] E_32 = E;
    localparam [31:0] KW1_32 = KW - 1;
    localparam [31:0] KH1_32 = KH - 1;
    localparam [31:0] WO1_32 = WO - 1;
    localparam [31:0] HO1_32 = HO - 1;
    localparam [31:0] W1_32 = W - 1;
    localparam [31:0] H1_32 = H - 1;
    localparam [31:0] DW_32 = DW;
    localparam [31:0] DH_32 = DH;
    localparam [31:0] SW_32 = SW;
    localparam [31:0] SH_32 = SH;
    localparam [31:0] PT_32 = PT;
    localparam [31:0] PL_32 = PL;
    localparam [31:0] SHM_32 = SH_MOD;
    localparam [31:0] SLOT0_32 = SLOT0;
    localparam [CW-1:0] H_C = H_32[CW-1:0];
    localparam [CW-1:0] W_C = W_32[CW-1:0];
    localparam [CW-1:0] E_C = E_32[CW-1:0];
    localparam [CW-1:0] KW1_C = KW1_32[CW-1:0];
    localparam [CW-1:0] KH1_C = KH1_32[CW-1:0];
    localparam [CW-1:0] WO1_C = WO1_32[CW-1:0];
    localparam [CW-1:0] HO1_C = HO1_32[CW-1:0];
    localparam [CW-1:0] W1_C = W1_32[CW-1:0];
    localparam [CW-1:0] H1_C = H1_32[CW-1:0];
    localparam [CW-1:0] DW_C = DW_32[CW-1:0];
    localparam [CW-1:0] DH_C = DH_32[CW-1:0];
    localparam [CW-1:0] SW_C = SW_32[CW-1:0];
    localparam [CW-1:0] SH_C = SH_32[CW-1:0];
    localparam [CW-1:0] PT_C = PT_32[CW-1:0];
    localparam [CW-1:0] PL_C = PL_32[CW-1:0];
    localparam [CW-1:0] SHM_C = SHM_32[CW-1:0];
    localparam [CW-1:0] SLOT0_C = SLOT0_32[CW-1:0];

    reg [C*E_W-1:0] mem[0:DEPTH-1];

    // ---- writer: row wr_row, column wr_col, ring slot wr_slot = wr_row mod E
    reg [CW-1:0] wr_row, wr_col;
    reg [AW-1:0] wr_addr;  // wr_slot * W + wr_col
    reg wr_done;  // the whole image is written
    // ---- reader: output pixel (ho, wo), tap (kh, kw); base_h = ho * SH - PT, base_w likewise
    reg [CW-1:0] ho, wo, kh, kw;
    reg signed [CW-1:0] base_h, base_w, off_h, off_w;
    reg [CW-1:0] base_slot;  // base_h mod E (mathematical, so also for negative base_h)
    reg rd_done;  // every window of the image is out

    wire signed [CW-1:0] ih = base_h + off_h;
    wire signed [CW-1:0] iw = base_w + off_w;
    wire signed [CW-1:0] h_s = H_C;
    wire signed [CW-1:0] w_s = W_C;
    wire signed [CW-1:0] e_s = E_C;
    // lowest row the current window still needs, and rows written so far
    wire signed [CW-1:0] rd_low = (base_h > 0) ? base_h : 0;
    wire signed [CW-1:0] rows_done = wr_done ? h_s : $signed(wr_row);
    wire signed [CW-1:0] need_end = (base_h + e_s < h_s) ? base_h + e_s : h_s;
    wire window_ready = !rd_done && (rows_done >= need_end);
    wire in_image = (ih >= 0) && (ih < h_s) && (iw >= 0) && (iw < w_s);
    wire [CW-1:0] slot_sum = base_slot + $unsigned(off_h);
    wire [CW-1:0] slot = (slot_sum >= E_C) ? slot_sum - E_C : slot_sum;
    wire [CW-1:0] rd_addr_w = slot * W_C + $unsigned(iw);
    wire [AW-1:0] rd_addr = rd_addr_w[AW-1:0];  // < DEPTH: the upper bits are zero
    wire unused = &{1'b0, rd_addr_w[CW-1:AW]};

    assign in_ready = rst_n && !wr_done && (rd_done || ($signed(wr_row) < rd_low + e_s));
    wire take = in_valid && in_ready;
    wire emit = window_ready && (!out_valid || out_ready);
    wire last_tap = (kw == KW1_C) && (kh == KH1_C);
    wire last_pixel = last_tap && (wo == WO1_C) && (ho == HO1_C);
    wire next_image = wr_done && rd_done;

    always @(posedge clk) begin
        if (take) mem[wr_addr] <= in_data;
    end

    always @(posedge clk) begin
        if (!rst_n || next_image) begin
            wr_row <= 0;
            wr_col <= 0;
            wr_addr <= 0;
            wr_done <= 1'b0;
        end else if (take) begin
            if (wr_col == W1_C) begin
                wr_col <= 0;
                wr_row <= wr_row + 1;
                wr_addr <= (wr_addr == LAST_ADDR) ? 0 : wr_addr + 1;
                if (wr_row == H1_C) wr_done <= 1'b1;
            end else begin
                wr_col <= wr_col + 1;
                wr_addr <= wr_addr + 1;
            end
        end
    end

    always @(posedge clk) begin
        if (!rst_n || next_image) begin
            ho <= 0;
            wo <= 0;
            kh <= 0;
            kw <= 0;
            base_h <= -PT_C;
            base_w <= -PL_C;
            off_h <= 0;
            off_w <= 0;
            base_slot <= SLOT0_C;
            rd_done <= 1'b0;
        end else if (emit) begin
            if (kw != KW1_C) begin
                kw <= kw + 1;
                off_w <= off_w + DW_C;
            end else begin
                kw <= 0;
                off_w <= 0;
                if (kh != KH1_C) begin
                    kh <= kh + 1;
                    off_h <= off_h + DH_C;
                end else begin
                    kh <= 0;
                    off_h <= 0;
                    if (wo != WO1_C) begin
                        wo <= wo + 1;
                        base_w <= base_w + SW_C;
                    end else begin
                        wo <= 0;
                        base_w <= -PL_C;
                        if (ho != HO1_C) begin
                            ho <= ho + 1;
                            base_h <= base_h + SH_C;
                            base_slot <= (base_slot + SHM_C >= E_C) ? base_slot + SHM_C - E_C
                                                        : base_slot + SHM_C;
                        end
                    end
                end
            end
            if (last_pixel) rd_done <= 1'b1;
        end
    end

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            out_data <= {(C * E_W) {1'b0}};
        end else if (emit) begin
            out_valid <= 1'b1;
            out_data <= in_image ? mem[rd_addr] : PAD_WORD;
        end else if (out_ready) begin
            out_valid <= 1'b0;
        end
    end
endmodule
