"""Simulate a generated model top against the golden model, layer by layer.

`simulate()` streams the golden test inputs through the RTL (cocotb bench hw/tb/tb_model.py),
collects every layer's output stream in three passes (latency, back-to-back, random stalls) and
compares each with the golden tensors; a mismatch names the first layer, sample, element index
and both values. CLI verb: `codesign sim <model>` (main below) writes
build/<model>/reports/rtl_sim.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from codesign import golden_io
from codesign.atomic import write_json
from codesign.errors import ArgumentParser, CodesignError, at_least, fail
from codesign.ir.compare import compare_layers, describe
from codesign.ir.graph import IntGraph
from codesign.paths import FLOWS_DIR, build_root
from codesign.rtl import manifest as rtl_manifest
from codesign.verify import fast_bench
from codesign.verify.runner import SIMULATORS, run_bench

MISSING = -(1 << 62)  # stands for an element the RTL never produced (counts as a mismatch)
PASSES = ("latency", "stream", "stall")
BENCHES = ("auto", "fast", "cocotb")


def _load_golden(golden: dict | str | Path, model: str | None) -> dict[str, np.ndarray]:
    if isinstance(golden, dict):
        return {k: np.asarray(v, dtype=np.int64) for k, v in golden.items()}
    return golden_io.load(golden, model=model)


def _prepare(model, golden, folding, build_dir) -> tuple[Path, dict, dict[str, np.ndarray]]:
    from codesign.rtl.generate import generate
    from codesign.rtl.manifest import load as load_manifest

    gold = _load_golden(golden, model if isinstance(model, str) else None)
    if isinstance(model, IntGraph):
        if build_dir is None:
            raise CodesignError("simulate(graph, ...) needs a build_dir for the generated RTL")
        if folding is None:
            from codesign.rtl.folding import load_folding

            folding = load_folding(None, model)
        rtl_dir = Path(build_dir) / "rtl"
        generate(model, folding, rtl_dir)
        if any(lay.name not in gold for lay in model.layers):
            from codesign.ir.chain import run

            gold = {**run(model, gold["input"]), **gold}
    else:
        rtl_dir = Path(model)
    man = load_manifest(rtl_dir)
    if "input" not in gold:
        raise CodesignError("golden tensors have no 'input' array")
    for lay in man["layers"]:
        if lay["name"] not in gold:
            raise CodesignError(f"golden tensors have no array for layer '{lay['name']}'")
        if gold[lay["name"]].shape[1:] != (lay["out_features"],):
            raise CodesignError(
                f"layer '{lay['name']}': golden shape {gold[lay['name']].shape} does not match "
                f"{lay['out_features']} outputs"
            )
    if gold["input"].shape[1:] != (man["input"]["features"],):
        raise CodesignError(
            f"golden input shape {gold['input'].shape} does not match {man['input']['features']}"
        )
    return rtl_dir.resolve(), man, gold


def _captured(cap: dict, pas: str, name: str, n: int, feats: int) -> tuple[np.ndarray, int]:
    flat = cap[f"{pas}__{name}"]
    need = n * feats
    missing = max(0, need - flat.size)
    full = np.full(need, MISSING, dtype=np.int64)
    full[: min(need, flat.size)] = flat[:need]
    return full.reshape(n, feats), missing


def simulate(
    model: str | Path | IntGraph,
    golden: dict | str | Path,
    samples: int | None = None,
    simulator: str = "verilator",
    waves: bool = False,
    build_dir: str | Path | None = None,
    folding: dict[str, tuple[int, int]] | None = None,
    seed: int = 0,
    gap_p: float = 0.3,
    bp_p: float = 0.85,
    passes: tuple[str, ...] = PASSES,
    bench: str = "auto",
) -> dict:
    """Run the RTL on the golden inputs; returns the rtl_sim report dict.

    model: a generated RTL folder (with manifest.json) or an IntGraph (generated into
    build_dir/rtl, default folding unless `folding` is given). golden: dict or .npz with 'input'
    and one array per layer (computed from the graph if missing). samples: the first N.
    bench: "fast" (Verilator with a C++ harness, codesign/verify/fast_bench.py), "cocotb"
    (hw/tb/tb_model.py, any simulator, waveforms), or "auto": fast where it can be.
    """
    if simulator not in SIMULATORS:
        raise CodesignError(f"unknown simulator '{simulator}' (choose from {SIMULATORS})")
    if bench not in BENCHES:
        raise CodesignError(f"unknown bench '{bench}' (choose from {BENCHES})")
    if bench == "auto":
        bench = "fast" if simulator == "verilator" and not waves else "cocotb"
    if bench == "fast" and (simulator != "verilator" or waves):
        raise CodesignError("the fast bench runs Verilator without waveforms; use --bench cocotb")
    t0 = time.perf_counter()
    rtl_dir, man, gold = _prepare(model, golden, folding, build_dir)
    x = gold["input"]
    n = x.shape[0] if samples is None else min(int(samples), x.shape[0])
    if n < 1:
        raise CodesignError("no samples to simulate")
    sim_dir = Path(build_dir).resolve() if build_dir else rtl_dir.parent
    sim_dir = sim_dir / "sim" / (simulator if bench == "cocotb" else "fast")
    sim_dir.mkdir(parents=True, exist_ok=True)
    if bench == "fast":
        cap, info = fast_bench.run(man, rtl_dir, x[:n], sim_dir, seed, gap_p, bp_p, passes)
        np.savez(sim_dir / "capture.npz", **cap)  # what the cocotb bench leaves, for users
        (sim_dir / "capture.json").write_text(json.dumps(info))
        stalls = {"gap_p": gap_p, "bp_p": bp_p, "seed": seed}
        return _report(man, gold, cap, info, passes, n, simulator, "fast", t0, stalls)
    np.save(sim_dir / "inputs.npy", x[:n])
    cfg = {
        "manifest": str(rtl_dir / "manifest.json"),
        "inputs": str(sim_dir / "inputs.npy"),
        "out_npz": str(sim_dir / "capture.npz"),
        "out_json": str(sim_dir / "capture.json"),
        "seed": seed,
        "gap_p": gap_p,
        "bp_p": bp_p,
        "latency_samples": 4,
        "skip_passes": [p for p in PASSES if p not in passes],
    }
    for f in (cfg["out_npz"], cfg["out_json"]):
        Path(f).unlink(missing_ok=True)
    res = run_bench(
        [rtl_dir / s for s in man["sources"]],
        man["top"],
        "tb_model",
        sim_dir / "build",
        simulator=simulator,
        config=cfg,
        waves=waves,
        seed=seed,
    )
    if not Path(cfg["out_npz"]).is_file():
        raise CodesignError(
            f"{simulator} run of '{man['top']}' produced no capture; see {res['log']}"
        )
    info = json.loads(Path(cfg["out_json"]).read_text())
    with np.load(cfg["out_npz"]) as d:
        cap = {k: d[k] for k in d.files}
    stalls = {"gap_p": gap_p, "bp_p": bp_p, "seed": seed}
    report = _report(man, gold, cap, info, passes, n, simulator, "cocotb", t0, stalls)
    if waves:
        wf = "dump.vcd" if simulator == "verilator" else f"{man['top']}.fst"
        report["waves"] = str(sim_dir / "build" / wf)
    return report


def _report(man, gold, cap, info, passes, n, simulator, bench, t0, stalls) -> dict:
    """The rtl_sim report from a bench's capture (either bench, same format)."""
    t1 = time.perf_counter()
    gap_p, bp_p, seed = stalls["gap_p"], stalls["bp_p"], stalls["seed"]
    names = [lay["name"] for lay in man["layers"]]
    last = names[-1]
    per_pass = {}
    first = None
    layers_total = dict.fromkeys(names, 0)
    out_mismatches = 0
    for pas in passes:
        cnt = info[pas]["samples"]
        rtl_t, missing = {}, 0
        for lay in man["layers"]:
            arr, miss = _captured(cap, pas, lay["name"], cnt, lay["out_features"])
            rtl_t[lay["name"]] = arr
            missing += miss
        ref = {k: gold[k][:cnt] for k in names}
        rep = compare_layers(ref, rtl_t, order=names, ref_name="golden", cand_name="rtl")
        rep.update(info[pas], missing=missing)
        per_pass[pas] = rep
        for k, v in rep["layers"].items():
            layers_total[k] += v
        out_mismatches += rep["layers"][last]
        if first is None and rep["first_mismatch"]:
            first = dict(rep["first_mismatch"], run=pas)

    report = {
        "model": man["model"],
        "top": man["top"],
        "simulator": simulator,
        "samples": n,
        "mismatches": out_mismatches,
        "mismatches_all_layers": sum(layers_total.values()),
        "layers": layers_total,
        "first_mismatch": first,
        "summary": describe(
            {"mismatches": sum(layers_total.values()), "first_mismatch": first}, "golden", "rtl"
        ),
        "ideal_cycles_per_inference": man["ideal_cycles_per_inference"],
        "folding": man["folding"],
        "passes": per_pass,
        "gap_p": gap_p,
        "bp_p": bp_p,
        "seed": seed,
        "waves": None,
    }
    if "latency" in passes:
        lat = cap["latency__t_out"] - cap["latency__t_in"][: cap["latency__t_out"].size] + 1
        report["cycles_per_inference"] = float(lat.mean()) if lat.size else None
        report["cycles_per_inference_definition"] = (
            "latency: first input beat accepted to last output beat accepted, inclusive, "
            "one sample in flight, no stalls"
        )
        if lat.size:
            report["cycles_vs_ideal"] = (
                report["cycles_per_inference"] / man["ideal_cycles_per_inference"]
            )
    if "stream" in passes:
        t_out = cap["stream__t_out"]
        report["interval_cycles_per_inference"] = (
            float((t_out[-1] - t_out[0]) / (t_out.size - 1)) if t_out.size > 1 else None
        )
        report["ideal_interval_cycles"] = man["ideal_interval_cycles"]
    report["cycles_simulated"] = int(sum(v["cycles"] for v in info.values()))
    report["sim_seconds"] = round(t1 - t0, 3)
    report["inferences_simulated"] = int(sum(v["samples"] for v in info.values()))
    report["bench"] = bench
    report["cycles_per_second"] = round(report["cycles_simulated"] / (t1 - t0)) if t1 > t0 else None
    return report


def _built_from(root: Path, files: list[Path]) -> list[dict]:
    """What a report was made from ({file, sha256} each; `--golden` may lie outside the model's
    folder, then its path as given), so a reader can tell which RTL and tensors it describes."""
    from codesign.paths import source_of

    out = []
    for f in map(Path, files):
        try:
            out.append(source_of(f.resolve(), root.resolve()))
        except ValueError:
            out.append({**source_of(f.resolve(), f.resolve().parent), "file": str(f)})
    return out


def main(argv: list[str]) -> int:
    """`codesign sim <model>`: simulate build/<model>/rtl on the golden test split."""
    ap = ArgumentParser(prog="codesign sim", description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    ap.add_argument(
        "--samples", type=at_least(1), default=None, help="first N samples (default all)"
    )
    ap.add_argument("--waves", action="store_true", help="dump a waveform (cocotb bench)")
    ap.add_argument(
        "--bench",
        choices=BENCHES,
        default="auto",
        help="fast: Verilator + C++ harness; cocotb: the Python bench (any simulator, waves)",
    )
    ap.add_argument("--seed", type=at_least(0), default=0)
    ap.add_argument("--build-dir", default=str(build_root()))
    ap.add_argument("--flows-dir", default=str(FLOWS_DIR))
    ap.add_argument("--golden", help="golden tensors (default build/<model>/golden/layers.npz)")
    a = ap.parse_args(argv)
    root = Path(a.build_dir) / a.model
    try:
        if not (root / "rtl" / "manifest.json").is_file():
            from codesign.rtl.generate import main as rtl_main

            if rtl_main([a.model, "--build-dir", a.build_dir, "--flows-dir", a.flows_dir]):
                return 2
        rtl_manifest.check_source(rtl_manifest.load(root / "rtl"), root, a.model)
        golden = Path(a.golden) if a.golden else root / "golden" / golden_io.FILE
        rep = simulate(
            root / "rtl",
            golden,
            samples=a.samples,
            simulator=a.simulator,
            waves=a.waves,
            seed=a.seed,
            bench=a.bench,
        )
    except CodesignError as e:
        return fail(e)
    rep["built_from"] = _built_from(root, [root / "rtl" / rtl_manifest.FILE, Path(golden)])
    out = root / "reports" / "rtl_sim.json"
    write_json(out, rep)
    print(
        f"{rep['simulator']}: {rep['samples']} samples, {rep['mismatches']} output mismatches "
        f"({rep['summary']}); {rep.get('cycles_per_inference')} cycles/inference "
        f"(ideal {rep['ideal_cycles_per_inference']}), interval "
        f"{rep.get('interval_cycles_per_inference')}; {rep['sim_seconds']} s -> {out}"
    )
    return 0 if rep["mismatches_all_layers"] == 0 else 1
