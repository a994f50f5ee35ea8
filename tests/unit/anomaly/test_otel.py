"""The OpenTelemetry adapter with the real SDK and in-memory exporters."""

from __future__ import annotations

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from ricecoder_otel.anomaly import AnomalyMonitor, Exemplar
from ricecoder_otel.anomaly.capability import episode_event
from ricecoder_otel.anomaly.otel import EVENT_NAME, SCORE_GAUGE, SERIES_ATTRIBUTE, AnomalyTelemetry
from ricecoder_otel.kernel.event_log import EventLogBridge
from ricecoder_otel.kernel.events import EventHub

from .conftest import START, gaussian


def _setup() -> tuple[AnomalyMonitor, InMemoryLogRecordExporter, InMemoryMetricReader]:
    """The monitor wired as the anomaly capability wires it: episodes through the hub to log records."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    monitor = AnomalyMonitor(clock=lambda: START)
    AnomalyTelemetry(monitor, meter_provider=meter_provider)
    hub = EventHub(background=False)
    EventLogBridge(hub, logger_provider)
    monitor.add_listener(lambda ep: hub.publish(episode_event(ep)) and None)
    monitor.add_listener(lambda _: hub.flush())
    return monitor, exporter, reader


def test_episodes_become_event_log_records() -> None:
    monitor, exporter, _ = _setup()
    values = gaussian(400)
    values[300] = 250.0
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    for i, v in enumerate(values):
        exemplar = Exemplar(trace) if i == 300 else None
        monitor.observe("latency:GET /orders", v, timestamp=START + i * 60, exemplar=exemplar)
    records = [d.log_record for d in exporter.get_finished_logs()]
    assert [r.event_name for r in records] == [EVENT_NAME, EVENT_NAME]
    start, end = records
    assert start.severity_number == SeverityNumber.WARN and end.severity_number == SeverityNumber.INFO
    attrs = dict(start.attributes or {})
    assert attrs[SERIES_ATTRIBUTE] == "latency:GET /orders"
    assert attrs["ricecoder.anomaly.kind"] == "spike"
    assert attrs["ricecoder.anomaly.phase"] == "start"
    assert attrs["ricecoder.anomaly.observed"] == 250.0
    low, high = attrs["ricecoder.anomaly.expected_low"], attrs["ricecoder.anomaly.expected_high"]
    assert isinstance(low, float) and isinstance(high, float) and low < 100.0 < high < 250.0
    assert attrs["ricecoder.anomaly.exemplar.trace_id"] == trace
    assert start.timestamp == int((START + 300 * 60) * 1e9)
    assert "spike on latency:GET /orders" in str(start.body)
    end_attrs = dict(end.attributes or {})
    assert end_attrs["ricecoder.anomaly.phase"] == "end" and "ricecoder.anomaly.end" in end_attrs


def test_score_gauge_reports_every_series() -> None:
    monitor, _, reader = _setup()
    for i, v in enumerate(gaussian(100)):
        monitor.observe("cpu", v, timestamp=START + i * 60)
        monitor.observe("memory", v, timestamp=START + i * 60)
    monitor.observe("cpu", 400.0, timestamp=START + 100 * 60)
    data = reader.get_metrics_data()
    assert data is not None
    points = {
        dict(p.attributes or {})[SERIES_ATTRIBUTE]: p.value
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == SCORE_GAUGE
        for p in m.data.data_points
        if isinstance(p, NumberDataPoint)
    }
    assert set(points) == {"cpu", "memory"}
    assert points["cpu"] > 0.5 > points["memory"]
