`timescale 1ns / 1ps
// snn_core -- event-driven integer spiking core with per-synapse delays (codesign, issue 6).
//
// Semantics (equal to codesign/snn/golden.py, spike for spike): per time step t and layer l,
//   deliver: every spike of a pre-synaptic address walks its fan-out list; synapse
//            (post, w, d) adds w into ring[post][(t + d) mod SLOTS]
//   update : every neuron j of layer l: I = ring[j][t mod SLOTS] + bias[j]; slot cleared;
//            V = sat(V - (V >>> k) + I); if spiking and V >= th[j]: spike (j, t), V = 0
// Layer l's spikes are queued and delivered (as pre address N_IN + j) before layer l+1 updates,
// so delay 0 works within a step. Non-spiking neurons (the readout) report V every step.
//
// Tables ($readmemh, written by codesign/snn/rtl.py):
//   SYN_FILE   one word per synapse {post[POST_W], weight[W_W] (signed), delay[SLOT_W]}, sorted by pre
//   PTR_FILE   (N_IN + N_POST + 1) words [SYN_AW]: fan-out of pre p is syn[ptr[p] .. ptr[p+1]-1]
//   TH_FILE    N_POST words [V_W] thresholds; BIAS_FILE N_POST words [B_W] signed bias
//   LAYER_FILE N_LAYERS words {lo[POST_W+1], hi[POST_W+1], leak_shift[4], spiking[1]}
// Interface: pulse `clear` (while in_ready) to zero all state and set t = 0 (takes
// N_POST * SLOTS cycles). Then per step: input events (in_valid, in_addr < N_IN) and one beat
// with in_eos = 1; the core runs the step and pulses step_done. Outputs are one-cycle strobes.
// One synapse or one neuron per cycle; memories are behavioural (read-modify-write).
module snn_core #(
    parameter integer N_IN = 4,
    parameter integer N_POST = 8,
    parameter integer N_LAYERS = 1,
    parameter integer POST_W = 3,
    parameter integer PRE_W = 4,
    parameter integer SYN_AW = 5,
    parameter integer SLOT_W = 2,
    parameter integer W_W = 8,
    parameter integer RING_W = 12,
    parameter integer V_W = 16,
    parameter integer B_W = 8,
    parameter integer T_W = 8,
    parameter integer FIFO_AW = 3,
    parameter SYN_FILE = "",
    parameter PTR_FILE = "",
    parameter TH_FILE = "",
    parameter BIAS_FILE = "",
    parameter LAYER_FILE = ""
) (
    input  wire              clk,
    input  wire              rst_n,
    input  wire              clear,
    input  wire              rec_mem,
    input  wire              in_valid,
    input  wire              in_eos,
    input  wire [ PRE_W-1:0] in_addr,
    output wire              in_ready,
    output reg               spk_valid,
    output reg  [POST_W-1:0] spk_addr,
    output reg  [   T_W-1:0] spk_t,
    output reg               mem_valid,
    output reg  [POST_W-1:0] mem_addr,
    output reg  [   T_W-1:0] mem_t,
    output reg  [   V_W-1:0] mem_v,
    output reg               step_done
);
    localparam integer SLOTS = 1 << SLOT_W;
    localparam integer SYN_WW = POST_W + W_W + SLOT_W;
    localparam integer LAY_WW = 2 * (POST_W + 1) + 5;
    localparam integer RING_AW = POST_W + SLOT_W;
    localparam integer X_W = (V_W > RING_W ? V_W : RING_W) + 3;  // update arithmetic width
    localparam integer LAY_AW = N_LAYERS > 1 ? $clog2(N_LAYERS) : 1;
    localparam integer CLR_LAST_I = N_POST * SLOTS - 1;
    localparam [RING_AW:0] CLR_LAST = CLR_LAST_I[RING_AW:0];
    localparam [RING_AW:0] N_POST_C = N_POST[RING_AW:0];
    localparam [LAY_AW:0] N_LAYERS_C = N_LAYERS[LAY_AW:0];
    localparam [PRE_W-1:0] N_IN_C = N_IN[PRE_W-1:0];

    localparam [2:0] S_IDLE = 3'd0, S_CLEAR = 3'd1, S_DELIVER = 3'd2, S_UPDATE = 3'd3,
        S_DRAIN = 3'd4;

    // depths are powers of two of the address widths (the generator sizes the widths so every
    // used entry fits; the rest is never addressed)
    reg [SYN_WW-1:0] syn_mem[0:(1<<SYN_AW)-1];
    reg [SYN_AW-1:0] ptr_mem[0:(1<<PRE_W)-1];
    reg [V_W-1:0] th_mem[0:(1<<POST_W)-1];
    reg [B_W-1:0] bias_mem[0:(1<<POST_W)-1];
    reg [LAY_WW-1:0] lay_mem[0:(1<<LAY_AW)-1];
    reg signed [RING_W-1:0] ring[0:(1<<RING_AW)-1];
    reg signed [V_W-1:0] vmem[0:(1<<POST_W)-1];
    reg [POST_W-1:0] fifo[0:(1<<FIFO_AW)-1];

    initial begin
        if (SYN_FILE != "") $readmemh(SYN_FILE, syn_mem);
        if (PTR_FILE != "") $readmemh(PTR_FILE, ptr_mem);
        if (TH_FILE != "") $readmemh(TH_FILE, th_mem);
        if (BIAS_FILE != "") $readmemh(BIAS_FILE, bias_mem);
        if (LAYER_FILE != "") $readmemh(LAYER_FILE, lay_mem);
    end

    reg [2:0] state, ret_state;
    reg [T_W-1:0] t;
    reg [SYN_AW-1:0] sp, sp_end;  // synapse pointer and end of the current fan-out
    reg [POST_W:0] j;  // neuron being updated
    reg [LAY_AW-1:0] layer;
    reg [FIFO_AW:0] f_wr, f_rd;
    reg [RING_AW:0] clr;

    assign in_ready = (state == S_IDLE);

    // ---- deliver: one synapse per cycle ----
    wire [SYN_WW-1:0] syn_w = syn_mem[sp];
    wire [POST_W-1:0] syn_post = syn_w[SYN_WW-1-:POST_W];
    wire signed [W_W-1:0] syn_weight = syn_w[SLOT_W+:W_W];
    wire [SLOT_W-1:0] syn_delay = syn_w[SLOT_W-1:0];
    wire [SLOT_W-1:0] syn_slot = t[SLOT_W-1:0] + syn_delay;
    wire [RING_AW-1:0] syn_ring_a = {syn_post, syn_slot};

    // ---- update: one neuron per cycle ----
    wire [LAY_WW-POST_W-2:0] lay_w = lay_mem[layer][LAY_WW-POST_W-2:0];  // {hi, shift, spiking}
    wire [POST_W:0] lay_hi = lay_w[5+:POST_W+1];
    wire [3:0] lay_shift = lay_w[4:1];
    wire lay_spiking = lay_w[0];
    wire [POST_W-1:0] jn = j[POST_W-1:0];
    wire [RING_AW-1:0] upd_ring_a = {jn, t[SLOT_W-1:0]};
    wire signed [X_W-1:0] v_old = {{(X_W - V_W) {vmem[jn][V_W-1]}}, vmem[jn]};
    wire signed [X_W-1:0] i_syn = {{(X_W - RING_W) {ring[upd_ring_a][RING_W-1]}}, ring[upd_ring_a]};
    wire signed [X_W-1:0] i_bias = {{(X_W - B_W) {bias_mem[jn][B_W-1]}}, bias_mem[jn]};
    wire signed [X_W-1:0] v_sum = v_old - (v_old >>> lay_shift) + i_syn + i_bias;
    localparam signed [X_W-1:0] V_MAX = (1 <<< (V_W - 1)) - 1;
    localparam signed [X_W-1:0] V_MIN = -(1 <<< (V_W - 1));
    wire signed [X_W-1:0] v_sat = v_sum > V_MAX ? V_MAX : (v_sum < V_MIN ? V_MIN : v_sum);
    wire signed [X_W-1:0] th_x = {{(X_W - V_W) {th_mem[jn][V_W-1]}}, th_mem[jn]};
    wire fire = lay_spiking && (v_sat >= th_x);
    wire [V_W-1:0] v_new = fire ? {V_W{1'b0}} : v_sat[V_W-1:0];

    wire [PRE_W-1:0] pre_in = in_addr;
    // PRE_W > POST_W (generator): a queued spike of neuron j is pre-synaptic address N_IN + j
    wire [PRE_W-1:0] pre_q = N_IN_C + {{(PRE_W - POST_W) {1'b0}}, fifo[f_rd[FIFO_AW-1:0]]};
    wire signed [RING_W-1:0] w_ext = {{(RING_W - W_W) {syn_weight[W_W-1]}}, syn_weight};

    always @(posedge clk) begin
        spk_valid <= 1'b0;
        mem_valid <= 1'b0;
        step_done <= 1'b0;
        if (!rst_n) begin
            state <= S_IDLE;
            t <= {T_W{1'b0}};
            layer <= {LAY_AW{1'b0}};
            f_wr <= 0;
            f_rd <= 0;
            clr <= 0;
            j <= 0;
            sp <= 0;
            sp_end <= 0;
            ret_state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: begin
                    if (clear) begin
                        state <= S_CLEAR;
                        clr <= 0;
                    end else if (in_valid && in_eos) begin
                        layer <= {LAY_AW{1'b0}};
                        j <= lay_mem[0][LAY_WW-1-:POST_W+1];
                        f_wr <= 0;
                        state <= S_UPDATE;
                    end else if (in_valid) begin
                        sp <= ptr_mem[pre_in];
                        sp_end <= ptr_mem[pre_in+1'b1];
                        ret_state <= S_IDLE;
                        state <= S_DELIVER;
                    end
                end
                S_CLEAR: begin
                    ring[clr[RING_AW-1:0]] <= {RING_W{1'b0}};
                    if (clr < N_POST_C) vmem[clr[POST_W-1:0]] <= {V_W{1'b0}};
                    clr <= clr + 1'b1;
                    if (clr == CLR_LAST) begin
                        t <= {T_W{1'b0}};
                        state <= S_IDLE;
                    end
                end
                S_DELIVER: begin
                    if (sp == sp_end) begin
                        state <= ret_state;
                    end else begin
                        ring[syn_ring_a] <= ring[syn_ring_a] + w_ext;
                        sp <= sp + 1'b1;
                    end
                end
                S_UPDATE: begin
                    ring[upd_ring_a] <= {RING_W{1'b0}};
                    vmem[jn] <= v_new;
                    if (fire) begin
                        spk_valid <= 1'b1;
                        spk_addr <= jn;
                        spk_t <= t;
                        fifo[f_wr[FIFO_AW-1:0]] <= jn;
                        f_wr <= f_wr + 1'b1;
                    end
                    if (rec_mem || !lay_spiking) begin
                        mem_valid <= 1'b1;
                        mem_addr <= jn;
                        mem_t <= t;
                        mem_v <= v_new;
                    end
                    if (j + 1'b1 == lay_hi) begin
                        if ({1'b0, layer} + 1'b1 == N_LAYERS_C) begin
                            t <= t + 1'b1;
                            step_done <= 1'b1;
                            state <= S_IDLE;
                        end else begin
                            f_rd <= 0;
                            state <= S_DRAIN;
                        end
                    end else begin
                        j <= j + 1'b1;
                    end
                end
                S_DRAIN: begin
                    if (f_rd == f_wr) begin
                        layer <= layer + 1'b1;
                        j <= lay_mem[layer+1'b1][LAY_WW-1-:POST_W+1];
                        f_wr <= 0;
                        state <= S_UPDATE;
                    end else begin
                        sp <= ptr_mem[pre_q];
                        sp_end <= ptr_mem[pre_q+1'b1];
                        f_rd <= f_rd + 1'b1;
                        ret_state <= S_DRAIN;
                        state <= S_DELIVER;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
