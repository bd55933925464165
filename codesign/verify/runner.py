"""Build and run a cocotb bench with cocotb_tools.runner (Verilator by default, Icarus too).

Verilator builds are cached: a stamp holds a hash of the sources, top, parameters and flags, and
a matching stamp skips verilator + make (memory files are read at run time, so a changed
$readmemh table does not need a rebuild). Results are read from the xUnit file, because outside
pytest `Runner.test()` does not raise on a failing test (../shared/TOOLCHAIN.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from codesign.errors import CodesignError
from codesign.rtl.hexmem import copy_tables
from codesign.rtl.toolenv import HW_TB, apply_tool_env, which

SIMULATORS = ("verilator", "icarus")


def _stamp(sources: list[Path], top: str, params: dict, build_args: list[str], waves: bool) -> str:
    h = hashlib.sha256()
    for s in sources:
        h.update(str(s).encode())
        h.update(Path(s).read_bytes())
    h.update(json.dumps([top, params, build_args, waves], sort_keys=True, default=str).encode())
    return h.hexdigest()


def run_bench(
    sources: list[Path],
    top: str,
    test_module: str,
    build_dir: Path,
    simulator: str = "verilator",
    parameters: dict | None = None,
    config: dict | None = None,
    waves: bool = False,
    testcase: str | None = None,
    seed: int = 0,
) -> dict:
    """Run hw/tb/<test_module>.py on `top`; returns {'tests', 'failed', 'results', 'log'}.

    `config` is written as JSON and handed to the bench through CODESIGN_TB_CONFIG.
    """
    if simulator not in SIMULATORS:
        raise CodesignError(f"unknown simulator '{simulator}' (choose from {SIMULATORS})")
    exe = "verilator" if simulator == "verilator" else "iverilog"
    if which(exe) is None:
        raise CodesignError(f"simulator '{simulator}' not installed ({exe} not on PATH)")
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    apply_tool_env()
    if str(HW_TB) not in sys.path:
        sys.path.insert(0, str(HW_TB))
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    parameters = dict(parameters or {})
    sources = [Path(s).resolve() for s in sources]
    copy_tables((s.parent for s in sources), build_dir)  # the tops name them relatively
    build_args = ["-Wno-fatal", "-O3"] if simulator == "verilator" else []
    runner = get_runner(simulator)
    stamp_file = build_dir / "codesign.stamp"
    stamp = _stamp(sources, top, parameters, build_args, waves)
    cached = (
        simulator == "verilator"
        and stamp_file.is_file()
        and stamp_file.read_text() == stamp
        and (build_dir / top).is_file()
    )
    log_build = build_dir / "build.log"
    if not cached:
        stamp_file.unlink(missing_ok=True)
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=top,
                parameters=parameters,
                build_args=build_args,
                build_dir=build_dir,
                waves=waves,
                timescale=("1ns", "1ps"),
                always=True,
                log_file=log_build,
            )
        except Exception as e:  # the simulator's own message is in the build log
            raise CodesignError(
                f"{simulator} build of '{top}' failed: {e} (see {log_build})"
            ) from None
        stamp_file.write_text(stamp)
    extra_env = {}
    if config is not None:
        cfg_path = build_dir / f"{test_module}.config.json"
        cfg_path.write_text(json.dumps(config, indent=1))
        extra_env["CODESIGN_TB_CONFIG"] = str(cfg_path)
    results = build_dir / f"{test_module}.results.xml"
    log_run = build_dir / f"{test_module}.log"
    pytest_name = os.environ.pop("PYTEST_CURRENT_TEST", None)  # we read the results ourselves
    try:
        runner.test(
            test_module=test_module,
            hdl_toplevel=top,
            hdl_toplevel_lang="verilog",
            build_dir=build_dir,
            test_dir=build_dir,
            results_xml=str(results),
            extra_env=extra_env,
            waves=waves,
            testcase=testcase,
            seed=seed,
            parameters=parameters if simulator != "verilator" else None,
            timescale=("1ns", "1ps"),
            log_file=log_run,
        )
    except SystemExit:
        pass  # results (or their absence) say what happened
    finally:
        if pytest_name is not None:
            os.environ["PYTEST_CURRENT_TEST"] = pytest_name
    try:
        tests, failed = get_results(results)
    except RuntimeError:
        tests, failed = 0, 1
    return {"tests": tests, "failed": failed, "results": str(results), "log": str(log_run)}


def run_capture(
    sources: list[Path],
    top: str,
    test_module: str,
    work: Path,
    inputs: np.ndarray | dict[str, np.ndarray],
    config: dict | None = None,
    simulator: str = "verilator",
    parameters: dict | None = None,
    seed: int = 0,
    require_pass: bool = True,
) -> dict[str, np.ndarray]:
    """Run a stand-alone bench that streams `inputs` and captures what the RTL produced.

    The inputs go to work/inputs.npy (an array) or work/inputs.npz (named arrays); the bench
    reads them from config["inputs"] and writes its captures to config["out_npz"]. Returns the
    captured arrays. A bench that writes no capture, or (with `require_pass`) reports a failed
    test, is one error naming the unit and the log.
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if isinstance(inputs, dict):
        in_path = work / "inputs.npz"
        np.savez(in_path, **inputs)
    else:
        in_path = work / "inputs.npy"
        np.save(in_path, inputs)
    cap = work / "capture.npz"
    cap.unlink(missing_ok=True)
    cfg = {"inputs": str(in_path), "out_npz": str(cap), **(config or {})}
    res = run_bench(
        sources, top, test_module, work / "build", simulator, parameters, cfg, seed=seed
    )
    if (require_pass and res["failed"]) or not cap.is_file():
        raise CodesignError(f"{simulator} run of {top} ({test_module}) failed; see {res['log']}")
    with np.load(cap) as d:
        return {k: d[k] for k in d.files}
