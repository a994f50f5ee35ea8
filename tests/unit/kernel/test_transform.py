"""Export transforms: what a capability changes on the export path reaches every exporter; a failing
transform drops the item (fail closed) and counts it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.registry import load_capabilities
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.transform import guarded, transform_spans
from ricecoder_otel.pipeline import build_pipeline
from ricecoder_otel.testing import InMemoryMetricExporter, points_in


def _mask(span: ReadableSpan) -> ReadableSpan | None:
    if span.name == "explode":
        raise ValueError("cannot process")
    if span.name == "drop me":
        return None
    attributes = {k: ("[masked]" if k == "user.email" else v) for k, v in (span.attributes or {}).items()}
    return ReadableSpan(name=span.name, context=span.context, attributes=attributes, resource=span.resource,
                        start_time=span.start_time, end_time=span.end_time, kind=span.kind)


def _no_tenant(data: MetricsData) -> MetricsData:
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    kept = {k: v for k, v in point.attributes.items() if k != "tenant"}
                    object.__setattr__(point, "attributes", kept)
    return data


class Masking(Capability):
    name = "masking"

    def install(self, context: InstallContext) -> None:
        context.span_transforms.append(_mask)
        context.metric_transforms.append(_no_tenant)


def test_transforms_apply_to_every_exporter_and_failures_drop_the_item() -> None:
    SELF_TELEMETRY.reset()
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    metrics = InMemoryMetricExporter()
    # The redaction capability is off here: this test watches a transform of its own.
    config = MonitoringConfig.model_validate({"compliance": {"redaction": {"enabled": False}}})
    pipeline = build_pipeline(
        config, set_global=False, span_exporters=[first, second], metric_readers=[metrics],
        log_exporters=[], capabilities=[*load_capabilities(), Masking()], watch_config=False,
    )
    try:
        tracer = pipeline.tracer_provider.get_tracer("t")
        for name in ("signup", "drop me", "explode"):
            with tracer.start_as_current_span(name, attributes={"user.email": "ana@example.com", "plan": "pro"}):
                pass
        pipeline.meter_provider.get_meter("t").create_counter("signups").add(1, {"tenant": "acme", "plan": "pro"})
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
    for exporter in (first, second):
        [span] = exporter.get_finished_spans()
        assert span.name == "signup" and dict(span.attributes or {}) == {"user.email": "[masked]", "plan": "pro"}
    [(attributes, _)] = points_in(metrics.collections[-1], "signups")
    assert attributes == {"plan": "pro"}
    dropped = SELF_TELEMETRY.snapshot().dropped
    assert dropped["spans.transform"] == 4  # two spans, each on its way to two exporters
    assert SELF_TELEMETRY.snapshot().errors["export.transform"] == 2


def test_log_transforms_run_on_the_export_path_per_exporter_and_fail_closed() -> None:
    import copy
    from dataclasses import replace

    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    def mask(readable: ReadableLogRecord) -> ReadableLogRecord | None:
        body = str(readable.log_record.body)
        if body == "explode":
            raise ValueError("cannot process")
        if body == "drop me":
            return None
        masked = copy.copy(readable.log_record)
        masked.body = body.replace("ann@example.com", "[masked]")
        return replace(readable, log_record=masked)

    class LogMasking(Capability):
        name = "log-masking"

        def install(self, context: InstallContext) -> None:
            context.log_transforms.append(mask)

    first, second = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
    pipeline = build_pipeline(
        MonitoringConfig(), set_global=False, span_exporters=[], metric_readers=[], log_exporters=[first, second],
        watch_config=False, capabilities=[LogMasking()],
    )  # fmt: skip
    before = SELF_TELEMETRY.snapshot().dropped.get("logs.transform", 0)
    try:
        logger = pipeline.logger_provider.get_logger("t")
        for body in ("signup ann@example.com", "drop me", "explode", "plain"):
            logger.emit(body=body)
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
    for exporter in (first, second):  # each exporter gets its own transformed copy
        assert [str(r.log_record.body) for r in exporter.get_finished_logs()] == ["signup [masked]", "plain"]
    assert SELF_TELEMETRY.snapshot().dropped["logs.transform"] - before == 4  # 2 records x 2 exporters


class _Batching:
    """A transform with a batch form: keeps "ok*" spans as they are, drops "drop*", fails on "bad*"
    one span at a time through ``guarded``; ``calls`` counts the per-item calls."""

    def __init__(self, answer: Callable[[list[ReadableSpan | None]], list[ReadableSpan | None]] | None = None) -> None:
        self.calls = 0
        self.batches: list[int] = []
        self._answer = answer

    def __call__(self, span: ReadableSpan) -> ReadableSpan | None:
        self.calls += 1
        if span.name.startswith("bad"):
            raise ValueError("cannot process")
        return None if span.name.startswith("drop") else span

    def transform_batch(self, spans: Sequence[ReadableSpan]) -> list[ReadableSpan | None]:
        self.batches.append(len(spans))
        results = [span if span.name.startswith("ok") else guarded("span", self, span) for span in spans]
        return self._answer(results) if self._answer is not None else results


def _spans(*names: str) -> list[ReadableSpan]:
    return [ReadableSpan(name=name) for name in names]


def test_a_batch_transform_gets_the_batch_once_and_a_failing_item_drops_only_itself() -> None:
    SELF_TELEMETRY.reset()
    batching = _Batching()
    spans = _spans("ok 1", "bad", "ok 2", "drop", "also kept")
    kept = transform_spans(spans, [batching])
    assert [span.name for span in kept] == ["ok 1", "ok 2", "also kept"]
    assert kept[0] is spans[0] and kept[2] is spans[4]
    assert batching.batches == [5] and batching.calls == 3  # the "ok" spans were decided in the batch loop
    assert SELF_TELEMETRY.snapshot().dropped["spans.transform"] == 2
    assert SELF_TELEMETRY.snapshot().errors["export.transform"] == 1


def test_transforms_chain_over_the_batch_and_a_dropped_span_reaches_no_later_transform() -> None:
    SELF_TELEMETRY.reset()
    seen: list[str] = []

    def watch(span: ReadableSpan) -> ReadableSpan:
        seen.append(span.name)
        return span

    kept = transform_spans(_spans("ok", "drop", "bad", "kept"), [_Batching(), watch])
    assert seen == ["ok", "kept"] and [span.name for span in kept] == ["ok", "kept"]


@pytest.mark.parametrize(
    "answer",
    [lambda results: results[:-1], lambda results: [*results, None], lambda results: 1 / 0],
    ids=["too-few", "too-many", "raises"],
)
def test_a_batch_transform_that_fails_as_a_whole_drops_the_batch(
    answer: Callable[[list[ReadableSpan | None]], list[ReadableSpan | None]],
) -> None:
    SELF_TELEMETRY.reset()
    assert transform_spans(_spans("ok 1", "ok 2", "ok 3"), [_Batching(answer)]) == []
    assert SELF_TELEMETRY.snapshot().dropped["spans.transform"] == 3
    assert SELF_TELEMETRY.snapshot().errors["export.transform"] == 1
