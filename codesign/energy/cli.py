"""`codesign energy <model> [--targets fpga,asic45,reram,sfq]`: energy per inference by substrate.

Without --targets a dense model prints the 45 nm table and writes reports/energy.json exactly as
before; with --targets the same file gains `targets` (one row per substrate, see targets.py),
`activity` (golden-model counts) and `papers` (published figures next to ours). Substrate rows
read the reports the simulators wrote; a missing one is recorded as unavailable with the command
that makes it, never estimated from nothing. The spiking and CoDeNet models have no ReRAM or SFQ
simulation: their rows are activity counts on the golden tensors (zoo.py, im2col.py,
reram_count.py, sfq_count.py) and say so in `basis` ("activity-count" vs "simulated").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from codesign import golden_io, paths
from codesign.atomic import write_json
from codesign.energy import papers, targets, zoo
from codesign.energy.activity import layer_activity
from codesign.energy.constants import horowitz
from codesign.energy.digital import estimate, table
from codesign.energy.techfile import Technology, load_all
from codesign.errors import ArgumentParser, CodesignError, at_least
from codesign.ir.graph import IntGraph

ALL_TARGETS = ("fpga", "asic45", "reram", "sfq")
TECH_OF = {"asic45": "asic45", "fpga": "fpga_xc7", "reram": "reram", "sfq": "sfq"}
MAKES = {
    "golden.npz": "codesign golden {m}",
    "rtl_sim.json": "codesign sim {m}",
    "synth_xc7.json": "codesign synth {m} --target xc7",
    "reram.json": "codesign reram {m}",
    "sfq.json": "codesign sfq {m}",
    "sim.json": "codesign sim {m}",
    "model.onnx": "codesign export {m}",
}


def _read(model: str, name: str) -> dict | None:
    p = paths.reports_dir(model) / name
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise CodesignError(f"report {p} is not valid JSON ({e})") from None


def _golden(model: str) -> dict[str, np.ndarray] | None:
    p = golden_io.path_for(model)
    return golden_io.load(p, model=model) if p.is_file() else None


def _missing(target: str, model: str, *files: str) -> dict:
    cmds = "; ".join(MAKES[f].format(m=model) for f in files)
    return {
        "target": target,
        "status": "unavailable",
        "reason": f"needs {', '.join(files)} (run: {cmds})",
    }


def parse_targets(text: str | None) -> list[str]:
    """'fpga,asic45' -> ['fpga', 'asic45']; 'all' -> every target; unknown names are errors."""
    if not text:
        return []
    if text.strip() == "all":
        return list(ALL_TARGETS)
    out = [t.strip() for t in text.split(",") if t.strip()]
    for t in out:
        if t not in ALL_TARGETS:
            raise CodesignError(
                f"--targets: unknown target '{t}' (known: {', '.join(ALL_TARGETS)})"
            )
    return out


def model_kind(model: str) -> str:
    """'snn', 'codenet' or 'dense' (an IntGraph export), from the reports the model has."""
    if (paths.reports_dir(model) / "snn.json").is_file():
        return "snn"
    if (paths.reports_dir(model) / "codenet.json").is_file():
        return "codenet"
    return "dense"


def _dense_rows(model: str, graph, wanted: list[str], techs: dict[str, Technology]) -> tuple:
    gold = _golden(model)
    act = layer_activity(graph, gold) if gold is not None else None
    rtl_sim, synth = _read(model, "rtl_sim.json"), _read(model, "synth_xc7.json")
    rows: dict[str, dict] = {}
    for t in wanted:
        tech = techs[TECH_OF[t]]
        if t == "asic45":
            rows[t] = targets.asic45(graph, tech, rtl_sim)
        elif t == "fpga":
            if act is None or rtl_sim is None or synth is None:
                rows[t] = _missing(t, model, "golden.npz", "rtl_sim.json", "synth_xc7.json")
            else:
                trace = _read(model, "rtl_activity.json")
                rows[t] = targets.fpga(graph, tech, act, synth, rtl_sim, trace)
        elif t == "reram":
            rep = _read(model, "reram.json")
            rows[t] = targets.reram(graph, tech, rep) if rep else _missing(t, model, "reram.json")
        elif t == "sfq":
            rep = _read(model, "sfq.json")
            rows[t] = targets.sfq(graph, tech, rep) if rep else _missing(t, model, "sfq.json")
    return rows, act


def _model_graph(model: str):
    p = paths.onnx_path(model)
    if not p.is_file():
        return None
    from codesign.graph import onnx_file

    return onnx_file.load(p)  # the backends below take it through their own lowering


def _other_rows(model: str, kind: str, wanted: list[str], techs: dict[str, Technology]) -> dict:
    rows: dict[str, dict] = {}
    gold = _golden(model) if set(wanted) & {"fpga", "reram", "sfq"} else None
    counted: dict[str, dict] = {}
    needs_graph = set(wanted) & {"reram", "sfq"} or (kind == "codenet" and "asic45" in wanted)
    graph = _model_graph(model) if needs_graph else None
    if set(wanted) & {"reram", "sfq"} and gold is not None:
        if graph is not None:
            rows_of = zoo.snn_rows if kind == "snn" else zoo.codenet_rows
            counted = rows_of(graph, gold, techs)
    for t in wanted:
        tech = techs[TECH_OF[t]]
        if kind == "snn" and t == "asic45":
            rows[t] = zoo.snn_asic45(tech, _read(model, "snn.json"), _read(model, "rtl.json") or {})
        elif kind == "codenet" and t == "asic45":
            if graph is None:
                rows[t] = _missing(t, model, "model.onnx")
            else:
                rows[t] = zoo.codenet_asic45(tech, _read(model, "codenet.json"), graph)
        elif kind == "codenet" and t == "fpga":
            if gold is None:
                rows[t] = _missing(t, model, "golden.npz")
            else:
                rows[t] = zoo.codenet_fpga(tech, _read(model, "codenet.json"), gold)
        elif kind == "snn" and t == "fpga":
            synth, sim = _read(model, "synth_xc7.json"), _read(model, "sim.json")
            if synth is None or sim is None:
                rows[t] = _missing(t, model, "sim.json", "synth_xc7.json")
            else:
                rows[t] = zoo.snn_fpga(tech, synth, sim, _read(model, "snn.json") or {})
        elif t in counted:
            rows[t] = counted[t]
        else:
            rows[t] = _missing(t, model, "golden.npz", "model.onnx")
    return rows


def compute(
    model: str,
    wanted: list[str],
    tech_dir: Path | str | None = None,
    graph: IntGraph | None = None,
) -> dict:
    """The energy report of `model` (legacy 45 nm keys + one row per wanted target).

    `graph` skips reading the ONNX export (tests pass a hand-built graph).
    """
    techs = load_all(tech_dir)
    for t in wanted:
        if TECH_OF[t] not in techs:
            raise CodesignError(
                f"technology '{TECH_OF[t]}' (for target {t}) has no file in {tech_dir}"
            )
    kind = model_kind(model)
    if kind == "dense":
        if graph is None:
            from codesign.ir.chain import load_int_graph

            graph = load_int_graph(paths.onnx_path(model), model)
        asic = techs.get("asic45")
        report = estimate(graph) if asic is None else estimate(graph, horowitz(asic))
        if not wanted:
            return report
        graph.require_plain("energy --targets")
        rows, act = _dense_rows(model, graph, wanted, techs)
        report["activity"] = act
    else:
        rows = _other_rows(model, kind, wanted or ["asic45"], techs)
        a = rows.get("asic45", {})
        report = {
            "model": model,
            "target": "asic45",
            "total_pJ": a.get("total_pJ"),
            "fp32_baseline_pJ": None,
            "macs": (a.get("area") or {}).get("macs"),
            "weight_memory_bits": None,
            "layers": a.get("layers", []),
            "source": "flows/energy/asic45.yaml",
        }
    report["kind"] = kind
    report["targets"] = rows
    report["papers"] = papers.compare(
        model, {k: v for k, v in rows.items() if "total_pJ" in v}, kind
    )
    return report


def targets_table(report: dict) -> str:
    """One line per substrate: energy, latency, throughput, EDP, area proxy."""
    head = f"{'target':<8}{'pJ/inf':>12}{'latency':>12}{'inf/s':>12}{'EDP J*s':>11}  area"
    lines = [head]
    for t, r in report["targets"].items():
        if "total_pJ" not in r:
            lines.append(f"{t:<8}  unavailable: {r['reason']}")
            continue
        lat = f"{r['latency_s'] * 1e6:.3g} us" if r["latency_s"] else "-"
        tp = f"{r['throughput_inf_per_s']:.3g}" if r["throughput_inf_per_s"] else "-"
        edp = f"{r['edp_Js']:.3g}" if r["edp_Js"] else "-"
        area = ", ".join(f"{k}={v}" for k, v in r["area"].items() if v is not None)
        basis = f" [{r['basis']}]" if r.get("basis") else ""
        lines.append(f"{t:<8}{r['total_pJ']:>12.1f}{lat:>12}{tp:>12}{edp:>11}  {area}{basis}")
    for p in report.get("papers", []):
        lines.append(f"paper {p['source']}: {p['paper']} | ours: {p['ours']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Entry point of the `energy` verb."""
    ap = ArgumentParser(prog="codesign energy", description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--targets", help="comma list of fpga,asic45,reram,sfq (or 'all')")
    ap.add_argument("--tech-dir", help="folder of technology YAML files (default flows/energy)")
    ap.add_argument(
        "--rtl-trace",
        type=at_least(1),
        metavar="N",
        help="first simulate N samples under Verilator with a VCD trace and use its toggle "
        "rate for the FPGA row (writes reports/rtl_activity.json; ~1 min for digits_mlp)",
    )
    args = ap.parse_args(argv)
    wanted = parse_targets(args.targets)
    if args.rtl_trace:
        from codesign.energy.rtl_activity import measure

        a = measure(args.model, args.rtl_trace)
        print(
            f"RTL trace: {a['samples']} samples, {a['cycles']} cycles, toggle rate {a['rate']:.4f}"
        )
    report = compute(args.model, wanted, args.tech_dir)
    write_json(paths.reports_dir(args.model) / "energy.json", report)
    if report.get("kind") in (None, "dense"):
        print(table(report))
    if "targets" in report:
        print(targets_table(report))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CodesignError as e:
        print(f"codesign: error: {e}", file=sys.stderr)
        sys.exit(2)
