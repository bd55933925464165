"""The sweep's results table: SQLite (stdlib), one row per point, written as each point finishes.

Only the client process writes (results arrive through Dask), one transaction per point, so an
interrupted sweep leaves every finished row intact and nothing half-written; resuming skips the
rows already there. Columns hold JSON for the open-ended parts (params, metrics, reasons).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from codesign.errors import CodesignError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    point_id TEXT PRIMARY KEY,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    metrics TEXT NOT NULL,
    unavailable TEXT NOT NULL,
    stages TEXT NOT NULL,
    worker TEXT,
    started REAL,
    finished REAL,
    seconds REAL,
    cpu_s REAL,
    attempts INTEGER NOT NULL DEFAULT 1,
    recorded REAL NOT NULL
);
"""
FINISHED = ("ok", "failed")


class Store:
    """results.sqlite of one sweep folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(points)")}
            if "cpu_s" not in cols:  # tables written before the column existed
                self.db.execute("ALTER TABLE points ADD COLUMN cpu_s REAL")
        except sqlite3.DatabaseError as e:
            raise CodesignError(
                f"results table {self.path} is not a usable SQLite file: {e}"
            ) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_meta(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, sort_keys=True)),
            )

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def record(self, result: dict[str, Any]) -> None:
        """Insert or replace a point's row (attempts counts how often it was recorded)."""
        r = result
        with self.db:
            self.db.execute(
                "INSERT INTO points(point_id, params, status, error, metrics, unavailable, stages,"
                " worker, started, finished, seconds, cpu_s, attempts, recorded)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
                " ON CONFLICT(point_id) DO UPDATE SET params = excluded.params,"
                " status = excluded.status, error = excluded.error, metrics = excluded.metrics,"
                " unavailable = excluded.unavailable, stages = excluded.stages,"
                " worker = excluded.worker, started = excluded.started,"
                " finished = excluded.finished, seconds = excluded.seconds, cpu_s = excluded.cpu_s,"
                " attempts = points.attempts + 1, recorded = excluded.recorded",
                (
                    r["point_id"],
                    json.dumps(r["params"], sort_keys=True),
                    r["status"],
                    r.get("error"),
                    json.dumps(r.get("metrics", {}), sort_keys=True),
                    json.dumps(r.get("unavailable", {}), sort_keys=True),
                    json.dumps(r.get("stages", {}), sort_keys=True),
                    r.get("worker"),
                    r.get("started"),
                    r.get("finished"),
                    r.get("seconds"),
                    r.get("cpu_s"),
                    time.time(),
                ),
            )

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT * FROM points" + (" WHERE status = ?" if status else "") + " ORDER BY recorded"
        cur = self.db.execute(q, (status,) if status else ())
        names = [c[0] for c in cur.description]
        out = []
        for row in cur.fetchall():
            d = dict(zip(names, row, strict=True))
            for k in ("params", "metrics", "unavailable", "stages"):
                d[k] = json.loads(d[k])
            out.append(d)
        return out

    def finished_ids(self, retry_failed: bool = False) -> set[str]:
        """Ids a resumed sweep skips: ok points, and failed ones unless retry_failed."""
        statuses = ("ok",) if retry_failed else FINISHED
        marks = ",".join("?" * len(statuses))
        cur = self.db.execute(f"SELECT point_id FROM points WHERE status IN ({marks})", statuses)
        return {r[0] for r in cur.fetchall()}


def open_existing(path: str | Path) -> Store:
    """A store that must already exist (for `codesign pareto`)."""
    if not Path(path).is_file():
        raise CodesignError(f"no results table at {path} (run `codesign sweep` first)")
    return Store(path)
