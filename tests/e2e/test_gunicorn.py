"""Fork safety: ``opentelemetry-instrument gunicorn --workers 2`` configures the SDK in the
master; each worker must restart the background exporters and reopen the store."""

from __future__ import annotations

import sys
from pathlib import Path

from ricecoder_otel.store import open_store
from tests.harness.shop import BIN, serve_traffic


def test_gunicorn_workers_each_export_their_spans(tmp_path: Path) -> None:
    assert (BIN / "gunicorn").exists(), "gunicorn is missing: pip install 'ricecoder-otel[examples]'"
    store_path = tmp_path / "telemetry.db"
    shop, stats = serve_traffic(
        tmp_path,
        {"RICECODER_STORE_PATH": str(store_path)},
        command=[
            sys.executable,
            str(BIN / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            "127.0.0.1:{port}",
            "--graceful-timeout",
            "20",
            "app:app",
        ],
        seconds=3,
    )
    with open_store(str(store_path)) as store:
        spans = [
            s
            for s in store.query_spans(limit=100_000)
            if s.kind == "SERVER" and s.attributes.get("http.route") != "/health"
        ]
        metric_names = {p.name for p in store.query_metrics(limit=100_000)}
    assert len(spans) == stats.requests, shop.output()[-3000:]
    worker_pids = {s.attributes["shop.worker_pid"] for s in spans}
    assert len(worker_pids) == 2, f"spans came from workers {worker_pids}"
    assert "http.server.request.duration" in metric_names
