"""The worked example in docs/architecture.md runs as written: a capability added to the registry
publishes an event that reaches the log exporters."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.trace import SpanKind

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.registry import load_capabilities
from ricecoder_otel.pipeline import build_pipeline

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def test_the_worked_example_is_a_working_capability() -> None:
    example = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    namespace: dict[str, Any] = {"__name__": "architecture_example"}
    exec(compile(example, str(DOC), "exec", dont_inherit=True), namespace)
    logs = InMemoryLogRecordExporter()
    config = MonitoringConfig.model_validate({"performance": {"slow_request_threshold": "10ms"}})
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[], metric_readers=[], log_exporters=[logs], watch_config=False,
        capabilities=[*load_capabilities(), namespace["SlownessCapability"]()],
    )
    try:
        tracer = pipeline.tracer_provider.get_tracer("test")
        for route, seconds in (("/orders", 0.02), ("/health", 0.0)):
            with tracer.start_as_current_span(f"GET {route}", kind=SpanKind.SERVER, attributes={"http.route": route}):
                time.sleep(seconds)
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
    events = [r.log_record for r in logs.get_finished_logs() if r.log_record.event_name == "ricecoder.route.slow"]
    assert [dict(e.attributes or {}) for e in events] == [{"http.route": "/orders"}]
