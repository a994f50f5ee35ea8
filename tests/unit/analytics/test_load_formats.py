"""The documented loading recipes: CSV and JSON reports load into pandas and DuckDB with the documented types."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.render import render
from ricecoder_otel.analytics.reports import Report
from tests.unit.analytics.scenario import D0, END, config, engine, feed

PANDAS_TYPES = {"string": "object", "integer": "int64", "number": "float64", "date": "object"}
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE"}


def written(tmp_path: Path, kind: str) -> tuple[Report, Path, Path]:
    core = engine()
    feed(core)
    report = reports.build(kind, core.snapshot(), config(), D0, END)
    csv_path, json_path = tmp_path / f"{kind}.csv", tmp_path / f"{kind}.json"
    csv_path.write_text(render(report, "csv"))
    json_path.write_text(render(report, "json"))
    return report, csv_path, json_path


def test_pandas_reads_the_columns_with_their_documented_types(tmp_path: Path) -> None:
    report, csv_path, json_path = written(tmp_path, "retention")  # string-free: dates, integers, numbers
    from_csv = pd.read_csv(csv_path)
    from_json = pd.DataFrame(json.loads(json_path.read_text())["rows"])
    for frame in (from_csv, from_json):
        assert list(frame.columns) == [c.name for c in report.columns]
        assert {c.name: str(frame[c.name].dtype) for c in report.columns} == {
            c.name: PANDAS_TYPES[c.type] for c in report.columns
        }
    assert from_csv["retention"].tolist() == from_json["retention"].tolist() == [r["retention"] for r in report.rows]


def test_duckdb_reads_csv_and_json_with_their_documented_types(tmp_path: Path) -> None:
    for kind in ("retention", "funnel"):
        report, csv_path, json_path = written(tmp_path, kind)
        expected = [(c.name, DUCKDB_TYPES[c.type]) for c in report.columns]
        with duckdb.connect() as db:
            from_csv = db.sql(f"SELECT * FROM read_csv_auto('{csv_path}')")
            assert list(zip(from_csv.columns, map(str, from_csv.types), strict=True)) == expected
            from_json = db.sql(f"SELECT unnest(rows, recursive := true) FROM read_json_auto('{json_path}')")
            assert list(zip(from_json.columns, map(str, from_json.types), strict=True)) == expected
            assert len(from_csv.fetchall()) == len(from_json.fetchall()) == len(report.rows)
            # an empty CSV cell is SQL NULL (step 1 of a funnel has no time from a previous step)
            if kind == "funnel":
                nulls = db.sql(f"SELECT count(*) FROM '{csv_path}' WHERE median_seconds_from_previous IS NULL")
                assert nulls.fetchone() == (1,)
