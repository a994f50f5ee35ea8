"""The example shop under ``opentelemetry-instrument`` on the embedded default."""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.store import open_store
from tests.harness.shop import serve_traffic


def test_all_three_signals_land_in_the_embedded_store(tmp_path: Path) -> None:
    store_path = tmp_path / "telemetry.db"
    shop, stats = serve_traffic(tmp_path, {"RICECODER_STORE_PATH": str(store_path)}, seconds=3)
    assert stats.by_status[200] > 0 and stats.by_status[500] > 0, stats

    with open_store(str(store_path)) as store:
        spans = store.query_spans(limit=100_000)
        points = store.query_metrics(limit=100_000)
        logs = store.query_logs(limit=100_000)

    server = [s for s in spans if s.kind == "SERVER" and s.attributes.get("http.route") != "/health"]
    # Every request became a server span with its route, from our distribution.
    assert len(server) == stats.requests, shop.output()[-2000:]
    assert {s.attributes.get("http.route") for s in server} >= {"/products", "/products/<int:product_id>"}
    assert all(s.resource.get("telemetry.distro.name") == "ricecoder-otel" for s in server)
    assert all(s.service_name == "shop" for s in server)
    failed = [s for s in server if s.attributes.get("http.route") == "/payments/flaky"]
    assert failed and all(s.status_code == "ERROR" for s in failed)
    # PerformanceTimer spans nest inside the request that ran them.
    assert any(s.name == "checkout.price" for s in spans)

    names = {p.name for p in points}
    # RED metrics from spans, system metrics, custom metrics from MetricsCollector, self-telemetry.
    assert {"http.server.request.duration", "ricecoder.http.server.errors"} <= names
    assert any(n.startswith("system.cpu") for n in names) and any(n.startswith("process.") for n in names)
    assert {"shop.orders", "shop.cart.size", "ricecoder.operation.duration", "ricecoder.self.processor.time"} <= names
    # Exactly one duration histogram per request: the framework's own copy is dropped by our views.
    final_counts: dict[str, int] = {}  # cumulative: the largest count of each series is its final count
    for p in points:
        if p.name == "http.server.request.duration":
            key = repr(sorted(p.attributes.items()))
            final_counts[key] = max(final_counts.get(key, 0), p.count or 0)
    assert sum(final_counts.values()) == stats.requests + 1  # and the harness' readiness probe

    assert any("order placed by" in log.body for log in logs)
    assert any(log.severity_text == "ERROR" and "payment gateway" in log.body for log in logs)
    # Logs emitted inside a request carry its trace id.
    trace_ids = {s.trace_id for s in server}
    assert any(log.trace_id in trace_ids for log in logs if "order placed" in log.body)
