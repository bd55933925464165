"""The report page: tables from the reports, PNG charts, the --all index."""

import json
from html.parser import HTMLParser

import pytest
from test_energy_cli import MODEL, two_layer_graph, write_model

from codesign import paths
from codesign.atomic import write_json
from codesign.energy import cli as energy_cli
from codesign.errors import CodesignError
from codesign.report import cli, page


class Tables(HTMLParser):
    """Collects table classes, cell texts and image sources."""

    def __init__(self):
        super().__init__()
        self.tables, self.cells, self.imgs = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append(a.get("class"))
        if tag == "img":
            self.imgs.append(a["src"])

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def build_tiny_report():
    g = two_layer_graph()
    write_model(g)
    write_json(
        paths.reports_dir(MODEL) / "energy.json",
        energy_cli.compute(MODEL, list(energy_cli.ALL_TARGETS), graph=g),
    )
    return cli.build_model(MODEL)


def test_page_has_the_tables_and_charts(build_root):
    html_path = build_tiny_report()
    p = Tables()
    text = open(html_path).read()
    p.feed(text)
    for cls in (
        "accuracy",
        "mismatches",
        "cycles",
        "resources",
        "energy",
        "layers",
        "papers",
        "constants",
    ):
        assert cls in p.tables, cls
    e = json.loads((paths.reports_dir(MODEL) / "energy.json").read_text())
    assert f"{e['targets']['reram']['total_pJ']:.4g}" in p.cells
    assert "Horowitz, ISSCC 2014, 45 nm 0.9 V" in p.cells
    assert "energy_by_layer.png" in p.imgs
    for src in p.imgs:
        data = (paths.model_dir(MODEL) / "report" / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", src


def test_page_rebuild_replaces_the_folder(build_root):
    first = build_tiny_report()
    (paths.model_dir(MODEL) / "report" / "stale.txt").write_text("x")
    assert build_tiny_report() == first
    assert not (paths.model_dir(MODEL) / "report" / "stale.txt").exists()


def test_index_links_each_model(tmp_path):
    e = {"targets": {"asic45": {"total_pJ": 12.5}, "sfq": {"status": "unavailable"}}}
    out = page.index([("m1", e), ("m2", None)], tmp_path / "index.html")
    text = out.read_text()
    assert "../m1/report/index.html" in text and "../m2/report/index.html" in text
    assert "12.5" in text


def test_bad_arguments_are_errors(build_root):
    with pytest.raises(CodesignError, match="model name or --all"):
        cli.main([])
    with pytest.raises(CodesignError, match="no reports"):
        cli.main(["no_such_model"])
