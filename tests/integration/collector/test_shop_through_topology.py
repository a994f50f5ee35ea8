"""The example shop under opentelemetry-instrument -> agent -> load balancing layer -> two samplers.

The shop exports to the collector and, composed the OpenTelemetry way, to the embedded store
(``OTEL_TRACES_EXPORTER=otlp,ricecoder_local``): the store holds every span it produced, so the
test knows which traces the samplers had to keep.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ricecoder_otel.store import open_store
from tests.harness.collector import Topology, iter_spans, telemetry_value, traces_decided, wait_until
from tests.harness.shop import drive, start_shop

SAMPLING_PERCENTAGE = 30


def test_shop_traces_are_sampled_whole_on_one_sampler(
    topology_factory: Callable[..., Topology], tmp_path: Path
) -> None:
    topology = topology_factory(sampling_percentage=SAMPLING_PERCENTAGE)
    store_path = tmp_path / "telemetry.db"
    shop = start_shop(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{topology.agent.env['AGENT_OTLP_GRPC_ENDPOINT']}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_EXPORTER": "otlp,ricecoder_local",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "RICECODER_STORE_PATH": str(store_path),
        },
    )
    try:
        drive(shop, 5)
    finally:
        shop.stop()
    with open_store(str(store_path)) as store:
        produced = store.query_spans(limit=1_000_000)
    spans_per_trace: dict[str, int] = defaultdict(int)
    errors: set[str] = set()
    for span in produced:
        spans_per_trace[span.trace_id] += 1
        if span.status_code == "ERROR":
            errors.add(span.trace_id)
    assert errors, "the shop produced no error trace"

    def placement() -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for index in range(len(topology.samplers)):
            for _, span in iter_spans(topology.sampler_out(index) / "traces.jsonl"):
                found[span["traceId"]][index] += 1
        return found

    wait_until(
        lambda: all(sum(placement().get(t, {}).values()) == spans_per_trace[t] for t in errors),
        "every error trace of the shop, whole, in a sampler's file",
        90,
    )
    # The healthy traces are decided in the same window: wait for every decision and every kept trace.
    wait_until(
        lambda: sum(traces_decided(sampler) for sampler in topology.samplers) >= len(spans_per_trace),
        f"the samplers' decisions on all {len(spans_per_trace)} traces",
        90,
    )
    sampled = sum(
        telemetry_value(sampler, "otelcol_processor_tail_sampling_global_count_traces_sampled", sampled="true")
        for sampler in topology.samplers
    )
    wait_until(
        lambda: sum(1 for t, found in placement().items() if sum(found.values()) == spans_per_trace[t]) >= sampled,
        "every kept trace, whole, in a sampler's file",
        60,
    )
    kept = placement()
    for trace_id, per_sampler in kept.items():
        assert len(per_sampler) == 1, f"trace {trace_id} split across samplers"
        assert sum(per_sampler.values()) == spans_per_trace[trace_id]
    healthy = [t for t in spans_per_trace if t not in errors]
    kept_healthy = sum(1 for t in healthy if t in kept)
    rate = SAMPLING_PERCENTAGE / 100
    tolerance = 4.5 * math.sqrt(len(healthy) * rate * (1 - rate))
    assert abs(kept_healthy - len(healthy) * rate) <= tolerance, f"kept {kept_healthy} of {len(healthy)} healthy"
