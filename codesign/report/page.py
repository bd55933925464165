"""A static HTML page per model from the JSON reports already under build/<model>/reports/.

Why a page built only from reports: it shows what the flows measured, nothing recomputed here
except the energy report when it is missing or lacks substrate rows. Every table says which
report file it came from; a missing report is a visible "not run" line, not an empty table.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from codesign import paths
from codesign.atomic import write_with
from codesign.report import charts

CSS = """body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #bbb;padding:3px 7px;
font-size:13px;text-align:right}th{background:#eee}td.l,th.l{text-align:left}
.note{color:#666;font-size:12px}img{max-width:100%;border:1px solid #ddd;margin:.4em 0}"""
# After load, the page records on <body> how many tables and decoded images it shows, so a
# headless browser's DOM dump proves what rendered (tests/energy/test_report_browser.py).
RENDER_CHECK = """<script>window.addEventListener('load',function(){var i=document.images,ok=0;
for(var k=0;k<i.length;k++){if(i[k].complete&&i[k].naturalWidth>0)ok++;}
document.body.setAttribute('data-images',i.length);document.body.setAttribute('data-images-ok',ok);
document.body.setAttribute('data-tables',document.querySelectorAll('table').length);});</script>"""
EXTRA_PNGS = ("raster.png", "detections.png", "compare.png", "sfq_margins.png", "reram_energy.png")


def _read(model: str, name: str) -> dict | None:
    p = paths.reports_dir(model) / name
    try:
        return json.loads(p.read_text()) if p.is_file() else None
    except json.JSONDecodeError:
        return None


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def table(head: list[str], rows: list[list], cls: str = "") -> str:
    """An HTML table; the first column is left-aligned."""
    h = "".join(
        f"<th class='{'l' if i == 0 else ''}'>{html.escape(c)}</th>" for i, c in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{'l' if i == 0 or isinstance(c, str) else ''}'>{_fmt(c)}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table class='{cls}'><tr>{h}</tr>{body}</table>"


def _accuracy(model: str) -> list[list]:
    rows = []
    g = _read(model, "golden.json")
    if g:
        for k in ("accuracy_float", "accuracy_quant", "accuracy_golden"):
            if g.get(k) is not None:
                rows.append([k.replace("accuracy_", ""), 100 * g[k], "golden.json"])
    s = _read(model, "snn.json")
    if s:
        for k, v in s.get("accuracy", {}).items():
            if isinstance(v, float) and k.startswith("accuracy"):
                rows.append([k.replace("accuracy_", ""), 100 * v, "snn.json"])
    c = _read(model, "codenet.json")
    if c:
        for k, v in c.get("golden", {}).get("ap50", {}).items():
            rows.append([f"AP50 {k}", 100 * v, "codenet.json"])
    r = _read(model, "reram.json")
    if r:
        for cfg in ("ideal", "default"):
            if cfg in r:
                rows.append([f"ReRAM {cfg} non-idealities", 100 * r[cfg]["accuracy"], "reram.json"])
    q = _read(model, "sfq.json")
    if q and q.get("accuracy_sfq") is not None:
        rows.append([f"SFQ ({q.get('graph')})", 100 * q["accuracy_sfq"], "sfq.json"])
    return rows


def _mismatches(model: str) -> list[list]:
    rows = []
    g = _read(model, "golden.json")
    if g:
        rows.append(["golden vs PyTorch", g.get("samples"), g.get("mismatches"), "golden.json"])
    s = _read(model, "snn.json")
    if s:
        gs = s.get("golden", {})
        rows.append(
            ["golden vs PyTorch (spikes)", gs.get("samples"), gs.get("mismatches"), "snn.json"]
        )
        rs = s.get("rtl_sim", {})
        n = sum(
            rs.get(k, 0) for k in ("spike_mismatches", "membrane_mismatches", "score_mismatches")
        )
        rows.append(["RTL vs golden (spikes, membranes)", rs.get("samples"), n, "snn.json"])
    c = _read(model, "codenet.json")
    if c:
        cg, cr = c.get("golden", {}), c.get("rtl_vs_golden", {})
        rows.append(["golden vs PyTorch", cg.get("samples"), cg.get("mismatches"), "codenet.json"])
        rows.append(
            ["RTL vs golden", len(cr.get("images", [])), cr.get("mismatches"), "codenet.json"]
        )
    r = _read(model, "rtl_sim.json")
    if r:
        rows.append(
            [f"RTL ({r['simulator']}) vs golden", r["samples"], r["mismatches"], "rtl_sim.json"]
        )
    e = _read(model, "reram.json")
    if e and "ideal" in e:
        bad = sum(x["mismatches"] for x in e["ideal"]["layers"])
        rows.append(["ReRAM (ideal devices) vs golden", e["n_test"], bad, "reram.json"])
    q = _read(model, "sfq.json")
    if q:
        rows.append(
            [f"SFQ ({q.get('graph')}) vs golden", q["samples"], q["mismatches"], "sfq.json"]
        )
    return rows


def _cycles(model: str) -> list[list]:
    rows = []
    r = _read(model, "rtl_sim.json")
    if r:
        rows += [
            ["RTL latency cycles / inference", r["cycles_per_inference"], "rtl_sim.json"],
            ["RTL interval cycles / inference", r["interval_cycles_per_inference"], "rtl_sim.json"],
            ["ideal cycles / inference", r["ideal_cycles_per_inference"], "rtl_sim.json"],
        ]
    c = _read(model, "codenet.json")
    if c:
        p = c["performance"]
        rows += [
            ["RTL cycles / frame (simulated)", p["sim_cycles_per_frame"], "codenet.json"],
            ["cycles / frame (analytic model)", p["model_cycles_per_frame"], "codenet.json"],
            ["ideal cycles / frame", p["ideal_cycles_per_frame"], "codenet.json"],
        ]
    s = _read(model, "snn.json")
    if s and s.get("rtl_cycles_per_step"):
        rows.append(["RTL cycles / time step", s["rtl_cycles_per_step"], "snn.json"])
    q = _read(model, "sfq.json")
    if q:
        rows.append(["SFQ latency ps / inference", q["per_inference"]["latency_ps"], "sfq.json"])
    a = _read(model, "rtl_activity.json")
    if a:
        rows.append(["RTL net-bit toggle rate / cycle (VCD)", a["rate"], "rtl_activity.json"])
        rows.append(
            ["RTL net-bit toggles / inference", a["toggles_per_inference"], "rtl_activity.json"]
        )
    return rows


def _resources(model: str) -> list[list]:
    rows = []
    y = _read(model, "synth_xc7.json")
    if y:
        rows.append(["Yosys xc7", y["LUT"], y["FF"], y["DSP"], y.get("BRAM"), "synth_xc7.json"])
    c = _read(model, "codenet.json")
    if c and c.get("resources"):
        r = c["resources"]
        rows.append(["Yosys xc7", r["LUT"], r["FF"], r["DSP"], r.get("BRAM"), "codenet.json"])
    return rows


def _energy_sections(energy: dict) -> str:
    out = []
    tg = energy.get("targets", {})
    rows = []
    for t, r in tg.items():
        if "total_pJ" not in r:
            rows.append([t, None, None, None, None, "unavailable: " + r.get("reason", ""), None])
            continue
        area = ", ".join(f"{k}={v}" for k, v in r["area"].items() if v is not None)
        rows.append(
            [
                t,
                r["total_pJ"],
                r["latency_s"],
                r["throughput_inf_per_s"],
                r["edp_Js"],
                area,
                r.get("basis"),
            ]
        )
    out.append("<h2>Energy per inference by substrate</h2>")
    out.append(
        table(
            [
                "target",
                "pJ / inference",
                "latency s",
                "inferences / s",
                "EDP J·s",
                "area proxy",
                "basis",
            ],
            rows,
            "energy",
        )
    )
    out.append(
        "<p class='note'>basis: 'simulated' = the substrate's simulator (or a Verilator "
        "toggle trace) ran the model; 'activity-count' = activity measured on the golden model "
        "or RTL, priced per action without simulating the substrate.</p>"
    )
    layers: list[str] = []
    for r in tg.values():
        for lay in r.get("layers", []):
            if lay["layer"] not in layers:
                layers.append(lay["layer"])
    avail = [t for t, r in tg.items() if "total_pJ" in r]
    if avail:
        lrows = [
            [lay]
            + [next((x["pJ"] for x in tg[t]["layers"] if x["layer"] == lay), None) for t in avail]
            for lay in layers
        ]
        out.append("<h3>pJ per inference by layer</h3>")
        out.append(table(["layer"] + avail, lrows, "layers"))
        out.append("<h3>How each row is computed</h3><ul>")
        out += [f"<li><b>{t}</b>: {html.escape(tg[t]['method'])}</li>" for t in avail]
        out.append("</ul>")
    if energy.get("papers"):
        out.append("<h2>Side by side with the papers</h2>")
        prow = [
            [
                p["claim"],
                p["source"],
                p["paper"],
                p["ours"],
                p["differs"],
                p.get("closest_model"),
            ]
            for p in energy["papers"]
        ]
        out.append(
            table(
                ["claim", "source", "paper", "ours", "what differs", "closest zoo model"],
                prow,
                "papers",
            )
        )
    crow = []
    for t in avail:
        for k, c in tg[t]["constants"].items():
            crow.append(
                [
                    f"{tg[t]['technology']}.{k}",
                    c["value"],
                    c["unit"],
                    "assumed" if c["assumed"] else "cited",
                    c["source"],
                ]
            )
    if crow:
        out.append("<h2>Constants (flows/energy/*.yaml)</h2>")
        out.append(table(["constant", "value", "unit", "status", "source"], crow, "constants"))
    return "\n".join(out)


def build(model: str, energy: dict, out_dir: Path) -> Path:
    """Write index.html and its PNGs into `out_dir` (a fresh folder)."""
    imgs = []
    p = charts.energy_by_layer(energy.get("targets", {}), out_dir / "energy_by_layer.png")
    if p:
        imgs.append((p.name, "Energy by layer and substrate"))
    r = _read(model, "reram.json")
    if r and r.get("sweeps"):
        p = charts.accuracy_vs_noise(r["sweeps"], out_dir / "accuracy_vs_noise.png")
        if p:
            imgs.append((p.name, "Accuracy vs ReRAM non-idealities"))
    s = _read(model, "snn.json")
    if s and s.get("golden", {}).get("delay_histogram"):
        p = charts.delay_histogram(s["golden"]["delay_histogram"], out_dir / "delay_histogram.png")
        if p:
            imgs.append((p.name, "Learned delay histogram"))
    for name in EXTRA_PNGS:
        src = paths.reports_dir(model) / name
        if src.is_file():
            shutil.copyfile(src, out_dir / name)
            imgs.append((name, f"{name} (from reports/)"))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(model)} report</title>",
        f"<style>{CSS}</style></head><body><h1>{html.escape(model)}</h1>",
        "<p class='note'>Built from build/" + html.escape(model) + "/reports/*.json. Numbers are "
        "measured by the flows; energy constants cite their sources below.</p>",
    ]
    for title, head, rows in (
        ("Accuracy (%)", ["metric", "value", "report"], _accuracy(model)),
        ("Mismatches", ["check", "samples", "mismatches", "report"], _mismatches(model)),
        ("Cycles", ["metric", "value", "report"], _cycles(model)),
        ("Resources", ["tool", "LUT", "FF", "DSP", "BRAM", "report"], _resources(model)),
    ):
        parts.append(f"<h2>{title}</h2>")
        parts.append(
            table(head, rows, title.split()[0].lower()) if rows else "<p class='note'>not run</p>"
        )
    parts.append(_energy_sections(energy))
    parts.append("<h2>Charts</h2>")
    parts += [
        f"<figure><img src='{n}' alt='{html.escape(a)}'>"
        f"<figcaption>{html.escape(a)}</figcaption></figure>"
        for n, a in imgs
    ]
    parts.append(RENDER_CHECK)
    parts.append("</body></html>")
    text = "\n".join(parts)
    return write_with(out_dir / "index.html", lambda p: p.write_text(text))


def index(models: list[tuple[str, dict | None]], path: Path) -> Path:
    """The --all page: one row per model with its per-substrate totals and a link."""
    subs = ("fpga", "asic45", "reram", "sfq")
    rows = []
    for m, e in models:
        tg = (e or {}).get("targets", {})
        link = f"<a href='../{html.escape(m)}/report/index.html'>{html.escape(m)}</a>"
        cells = "".join(f"<td>{_fmt(tg.get(s, {}).get('total_pJ'))}</td>" for s in subs)
        rows.append(f"<tr><td class='l'>{link}</td>{cells}</tr>")
    head = "".join(f"<th>{s} pJ</th>" for s in subs)
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>codesign models</title>"
        f"<style>{CSS}</style></head><body><h1>codesign: energy per inference by model</h1>"
        f"<table class='index'><tr><th class='l'>model</th>{head}</tr>{''.join(rows)}</table>"
        "<p class='note'>'-': no row for that substrate. Each model's page says per row whether "
        "it is simulated or an activity count.</p></body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    from codesign.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
