"""ricecoder-otel installed beside opentelemetry-distro, and an OTLP endpoint that is down."""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.store import open_store
from tests.harness.ports import free_port
from tests.harness.shop import serve_traffic


def _server_spans(store_path: Path) -> list[object]:
    with open_store(str(store_path)) as store:
        return [s for s in store.query_spans(limit=100_000) if s.kind == "SERVER"]


def _metric_names(store_path: Path) -> set[str]:
    with open_store(str(store_path)) as store:
        return {p.name for p in store.query_metrics(limit=100_000)}


def test_selecting_ricecoder_explicitly_when_opentelemetry_distro_is_installed(tmp_path: Path) -> None:
    store_path = tmp_path / "ours.db"
    serve_traffic(
        tmp_path,
        {
            "OTEL_PYTHON_DISTRO": "ricecoder_otel",
            "OTEL_PYTHON_CONFIGURATOR": "ricecoder_otel",
            "RICECODER_STORE_PATH": str(store_path),
        },
        seconds=1,
    )
    spans = _server_spans(store_path)
    assert spans and all(s.resource["telemetry.distro.name"] == "ricecoder-otel" for s in spans)  # type: ignore[attr-defined]
    assert {"http.server.request.duration", "ricecoder.self.queue.depth"} <= _metric_names(store_path)


def test_upstream_distro_selected_still_composes_with_our_local_exporter(tmp_path: Path) -> None:
    store_path = tmp_path / "upstream.db"
    serve_traffic(
        tmp_path,
        {
            "OTEL_PYTHON_DISTRO": "distro",
            "OTEL_PYTHON_CONFIGURATOR": "configurator",
            "OTEL_TRACES_EXPORTER": "ricecoder_local",
            "OTEL_METRICS_EXPORTER": "ricecoder_local",
            "OTEL_LOGS_EXPORTER": "none",
            "RICECODER_STORE_PATH": str(store_path),
        },
        seconds=1,
    )
    spans = _server_spans(store_path)
    # The SDK's configurator built the providers: spans arrive through our exporter entry
    # point, but without ricecoder's resource or RED processor.
    assert spans and all("telemetry.distro.name" not in s.resource for s in spans)  # type: ignore[attr-defined]
    # (The app's own PerformanceTimer still records ricecoder.operation.duration through the OTel API.)
    assert not any(name.startswith(("ricecoder.self.", "ricecoder.http.")) for name in _metric_names(store_path))


def test_an_unreachable_otlp_endpoint_never_hurts_the_app(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens here
    _, stats = serve_traffic(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed}",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2",  # seconds in the Python exporters
        },
        seconds=2,
        stop_timeout_s=60,
    )
    assert stats.requests > 0
    # Every request was answered as the app intended (the flaky route fails by design).
    assert set(stats.by_status) <= {200, 201, 404, 500}
    assert stats.by_status[500] == stats.by_route["/payments/flaky"]
