"""Pareto filter on hand-made points, its defining property, and the report/plot from a table."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.dse.pareto import dominates, main, pareto, pareto_front
from codesign.dse.store import Store


def test_hand_made_front_accuracy_max_energy_min():
    # (accuracy, energy): c is dominated by b (same accuracy, more energy), e by d.
    pts = [(0.90, 100.0), (0.95, 200.0), (0.95, 250.0), (0.97, 400.0), (0.96, 500.0)]
    assert pareto_front(pts, ("max", "min")) == [0, 1, 3]


def test_hand_made_front_both_min_and_ties():
    pts = [(1, 5), (2, 2), (5, 1), (3, 3), (2, 2), (6, 6)]
    # equal points dominate neither each other: both copies of (2, 2) stay
    assert pareto_front(pts, ("min", "min")) == [0, 1, 2, 4]
    assert dominates((2, 2), (3, 3), ("min", "min"))
    assert not dominates((2, 2), (2, 2), ("min", "min"))
    assert dominates((0.9, 1), (0.8, 1), ("max", "min"))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30),
    st.sampled_from(["min", "max"]),
    st.sampled_from(["min", "max"]),
)
def test_front_property(pts, sx, sy):
    senses = (sx, sy)
    front = set(pareto_front(pts, senses))
    assert front
    for i, p in enumerate(pts):
        beaten = any(dominates(q, p, senses) for q in pts)
        assert (i in front) == (not beaten)
    # every point off the front is dominated by some front point (domination is transitive)
    for i, p in enumerate(pts):
        if i not in front:
            assert any(dominates(pts[j], p, senses) for j in front)


def _row(pid, bits, fold, acc, energy, cycles, status="ok"):
    return {
        "point_id": pid,
        "params": {"quant.weight_bits": bits, "rtl.folding": fold},
        "status": status,
        "error": None if status == "ok" else "stage train: boom",
        "metrics": {}
        if status != "ok"
        else {"accuracy": acc, "energy_pJ": energy, "cycles": cycles},
        "unavailable": {"lut": "synth: codesign.rtl.synth not importable"},
        "stages": {},
    }


def test_report_and_plot_from_a_table(tmp_path, capsys):
    small, big = {"fc0": [2, 8]}, {"fc0": [8, 16]}
    root = tmp_path / "sw"
    with Store(root / "results.sqlite") as st:
        st.set_meta(
            "space",
            {
                "name": "sw",
                "axes": {"quant.weight_bits": [2, 4], "rtl.folding": [small, big]},
                "metrics": ["accuracy", "energy_pJ", "cycles", "lut"],
                "recommended": {"quant.weight_bits": 4, "rtl.folding": big},
            },
        )
        st.record(_row("pa", 2, small, 0.80, 100.0, 400))
        st.record(_row("pb", 2, big, 0.80, 100.0, 90))
        st.record(_row("pc", 4, small, 0.93, 300.0, 400))
        st.record(_row("pd", 4, big, 0.92, 300.0, 90))  # recommended, dominated by pc
        st.record(_row("pe", 3, big, 0, 0, 0, status="failed"))
    rep = pareto(root)
    pairs = {(p["x"]["metric"], p["y"]["metric"]): p for p in rep["pairs"]}
    ae = pairs[("accuracy", "energy_pJ")]
    assert {p["point_id"] for p in ae["front"]} == {"pa", "pb", "pc"}
    assert ae["recommended"]["point_id"] == "pd"
    assert ae["recommended"]["on_front"] is False
    assert ae["recommended"]["dominated_by"] == ["pc"]
    ac = pairs[("accuracy", "cycles")]
    assert {p["point_id"] for p in ac["front"]} == {"pc", "pd"}  # pb is beaten by pd
    assert ac["recommended"]["on_front"] is True
    al = pairs[("accuracy", "lut")]
    assert al["points"] == 0 and "not importable" in al["missing"]["lut"]
    assert "plot" not in al
    assert rep["failed"] == 1 and rep["ok_points"] == 4
    png = root / "pareto_accuracy_vs_energy_pJ.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((root / "reports" / "pareto.json").read_text())
    assert saved["pairs"][0]["recommended"]["point_id"] == "pd"
    # mac_lanes is not measured in this sweep: its default pair is skipped, not reported empty
    assert any("mac_lanes" in s["pair"] for s in saved["skipped_pairs"])

    assert main([str(root), "--pair", "cycles:min,energy_pJ:min", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "cycles (min) vs energy_pJ (min): 1 of 4 points non-dominated" in out


def test_pareto_cli_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CODESIGN_BUILD_DIR", str(tmp_path))
    assert main(["no_such_sweep"]) == 2
    assert "no sweep 'no_such_sweep'" in capsys.readouterr().err
    (tmp_path / "sweeps" / "x").mkdir(parents=True)
    (tmp_path / "sweeps" / "x" / "results.sqlite").write_text("not sqlite at all" * 100)
    assert main(["x"]) == 2
    assert "not a usable SQLite file" in capsys.readouterr().err
    assert main(["x", "--pair", "accuracy:max,speed:min"]) == 2
    assert "unknown metric 'speed'" in capsys.readouterr().err
