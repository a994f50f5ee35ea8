"""The labelled PII corpus (benchmarks/redaction/corpus.py) sent through a pipeline on every signal."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.redaction.corpus import Sample
from ricecoder_otel.pipeline import Pipeline


def send_corpus(pipeline: Pipeline, samples: Sequence[Sample], metric_samples: int) -> None:
    """Each sample as a span attribute and as a log body or attribute; the first ``metric_samples``
    also as a metric attribute. The pipeline is flushed and shut down."""
    try:
        tracer = pipeline.tracer_provider.get_tracer("corpus")
        logger = pipeline.logger_provider.get_logger("corpus")
        counter = pipeline.meter_provider.get_meter("corpus").create_counter("corpus.values")
        for index, sample in enumerate(samples):
            key = sample.key or "message"
            with tracer.start_as_current_span(f"sample {index}", attributes={key: sample.value}):
                pass
            if sample.key is None:
                logger.emit(body=sample.value, attributes={"index": index})
            else:
                logger.emit(body=f"sample {index}", attributes={sample.key: sample.value})
            if index < metric_samples:
                counter.add(1, {key: sample.value})
        pipeline.force_flush()
    finally:
        pipeline.shutdown()


def leaked(samples: Sequence[Sample], text: str) -> list[tuple[str, str]]:
    """(kind, sensitive substring) of every sample whose secret appears in ``text``."""
    return sorted({(sample.kind, secret) for sample in samples for secret in sample.secrets if secret in text})
