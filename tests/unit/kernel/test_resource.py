"""The pipeline's resource hashes once: equal to the SDK's resource in every way the encoders use."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk import resources
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.resource import HashOnceResource, hash_once
from ricecoder_otel.pipeline import build_pipeline

ATTRIBUTES = {"service.name": "shop", "host.name": "h1", "os.type": "linux", "service.instance.id": "abc"}


def test_it_equals_and_hashes_like_the_sdk_resource_without_serialising_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = Resource(ATTRIBUTES, "https://opentelemetry.io/schemas/1.26.0")
    kept = hash_once(plain)
    assert isinstance(kept, HashOnceResource)
    assert kept == plain and plain == kept
    assert hash(kept) == hash(plain)
    assert dict(kept.attributes) == ATTRIBUTES and kept.schema_url == plain.schema_url
    assert hash_once(kept) is kept

    def no_dumps(*args: object, **kwargs: object) -> str:
        raise AssertionError("the hash was computed again")

    monkeypatch.setattr(resources, "dumps", no_dumps)
    assert hash(kept) == hash(kept)
    with pytest.raises(AssertionError, match="computed again"):
        hash(plain)


def test_spans_of_the_kept_and_the_plain_resource_encode_into_one_resource_group() -> None:
    plain = Resource(ATTRIBUTES)
    spans = []
    for resource in (plain, hash_once(plain)):
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        provider.get_tracer("t").start_span("work").end()
        spans += exporter.get_finished_spans()
    request = encode_spans(spans)
    assert len(request.resource_spans) == 1
    assert len(request.resource_spans[0].scope_spans[0].spans) == 2


def test_the_pipeline_resource_is_hashed_once() -> None:
    pipeline = build_pipeline(
        MonitoringConfig(), set_global=False, span_exporters=[], metric_readers=[], log_exporters=[], watch_config=False
    )
    try:
        assert isinstance(pipeline.tracer_provider.resource, HashOnceResource)
        assert pipeline.tracer_provider.get_tracer("t").start_span("s").resource is pipeline.tracer_provider.resource
    finally:
        pipeline.shutdown()
