"""The results table and what a resumed sweep skips (no cluster needed)."""

from __future__ import annotations

from codesign.dse.execute import Sweep
from codesign.dse.space import parse_space, point_id
from codesign.dse.store import Store


def _space(metrics):
    doc = {"model": "digits_mlp", "name": "s", "axes": {"quant.weight_bits": [2, 3, 4]}}
    return parse_space({**doc, "metrics": metrics}, "s.yaml")


def _row(space, bits, status="ok", metrics=None, unavailable=None):
    params = {"quant.weight_bits": bits}
    return {
        "point_id": point_id(space.model, params),
        "params": params,
        "status": status,
        "error": None if status == "ok" else "stage train: boom",
        "metrics": metrics or {},
        "unavailable": unavailable or {},
        "stages": {},
        "seconds": 1.5,
        "cpu_s": 1.2,
    }


def test_rows_attempts_and_retry(tmp_path):
    sp = _space(["accuracy"])
    with Store(tmp_path / "r.sqlite") as st:
        st.record(_row(sp, 2, metrics={"accuracy": 0.9}))
        st.record(_row(sp, 3, status="failed"))
        st.record(_row(sp, 3, status="failed"))
        st.set_meta("space", {"name": "s"})
    with Store(tmp_path / "r.sqlite") as st:  # reopened: everything persisted
        rows = {r["params"]["quant.weight_bits"]: r for r in st.rows()}
        assert rows[2]["metrics"] == {"accuracy": 0.9} and rows[2]["attempts"] == 1
        assert rows[3]["attempts"] == 2 and rows[3]["error"] == "stage train: boom"
        assert rows[2]["cpu_s"] == 1.2
        assert st.meta("space") == {"name": "s"} and st.meta("nope", 7) == 7
        ids = {r["params"]["quant.weight_bits"]: r["point_id"] for r in st.rows()}
        assert st.finished_ids() == {ids[2], ids[3]}
        assert st.finished_ids(retry_failed=True) == {ids[2]}


def test_resume_reruns_points_missing_a_newly_asked_metric(tmp_path):
    sp = _space(["accuracy"])
    sw = Sweep(sp, tmp_path / "sw")
    sw.store.record(_row(sp, 2, metrics={"accuracy": 0.9}))
    sw.store.record(_row(sp, 3, metrics={"accuracy": 0.9}, unavailable={"cycles": "rtl: gone"}))
    sw.store.record(_row(sp, 4, status="failed"))
    assert sw.pending()[1] == []
    assert sw.pending(retry_failed=True)[1] == [{"quant.weight_bits": 4}]
    sw.close()
    # cycles asked for now: the point that never measured it runs again; the one that recorded
    # it as unavailable (and the failed one) do not
    sw = Sweep(_space(["accuracy", "cycles"]), tmp_path / "sw")
    assert sw.pending()[1] == [{"quant.weight_bits": 2}]
    sw.close()


def test_resume_reruns_points_whose_backend_has_appeared(tmp_path):
    sp = _space(["accuracy"])
    sw = Sweep(sp, tmp_path / "sw")
    then = _row(sp, 2, metrics={"accuracy": 0.9})
    then["stages"] = {"energy": {"status": "unavailable", "reason": "not importable"}}
    never = _row(sp, 3, metrics={"accuracy": 0.9})
    never["stages"] = {"quantum": {"status": "unavailable", "reason": "not importable"}}
    sw.store.record(then)
    sw.store.record(never)
    sw.store.record(_row(sp, 4, metrics={"accuracy": 0.9}))
    # codesign.energy.digital imports now, so point 2 runs again; 'quantum' is no stage
    assert sw.pending()[1] == [{"quant.weight_bits": 2}]
    sw.close()
