"""Nothing from the labelled PII corpus reaches any sink behind the real collector.

The service exports spans, logs and metrics with OTLP/HTTP to the shipped agent, which forwards
traces and logs to the shipped gateway and serves metrics on its Prometheus endpoint; the
gateway's file sinks, the agent's audit archive and the agent's scrape page are read back and
every string in them is searched for every sensitive substring of every sample. The corpus
values go in as span attributes, log bodies, log attributes and metric attributes.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from benchmarks.redaction.corpus import corpus
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.pipeline import build_pipeline
from tests.harness.collector import iter_logs, iter_spans, read_requests, wait_until
from tests.harness.pii import leaked, send_corpus
from tests.integration.backends.conftest import Stoppable, path_env, start_path

SAMPLES = 600  # a slice of the `fresh` split: every kind of sample occurs in it


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON document (so escaped non-ASCII text is compared decoded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_no_value_of_the_pii_corpus_reaches_a_sink_behind_the_agent_and_gateway(
    tmp_path: Path, stack: list[Stoppable]
) -> None:
    agent_env, gateway_env = path_env(tmp_path)
    path = start_path(tmp_path, agent_env, gateway_env)
    stack.append(path)
    samples = corpus("fresh")[0][:SAMPLES]
    assert len({s.kind for s in samples}) >= 8, "the slice should cover the corpus' kinds"

    endpoint = path.agent_http
    config = MonitoringConfig.model_validate({"store": {"location": str(tmp_path / "telemetry.db")}})
    pipeline = build_pipeline(
        config,
        set_global=False,
        watch_config=False,
        span_exporters=[OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")],
        log_exporters=[OTLPLogExporter(endpoint=f"{endpoint}/v1/logs")],
        metric_readers=[OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")],
    )
    send_corpus(pipeline, samples, metric_samples=100)

    out = path.gateway_out

    scrape_url = f"http://{path.agent.env['AGENT_PROMETHEUS_ENDPOINT']}/metrics"

    def scrape() -> str:
        with urllib.request.urlopen(scrape_url, timeout=10) as response:
            return str(response.read().decode("utf-8"))

    def arrived() -> tuple[int, int, bool]:
        spans = sum(1 for _ in iter_spans(out / "traces.jsonl"))
        logs = sum(1 for _ in iter_logs(out / "logs.jsonl"))
        return spans, logs, "corpus_values" in scrape()

    try:
        wait_until(lambda: arrived() >= (SAMPLES, SAMPLES, True), "the corpus in the sinks and on the scrape page", 90)
    except AssertionError as error:
        raise AssertionError(f"{error}: (spans, log records, metric) = {arrived()}") from None
    sinks = [out / "traces.jsonl", out / "logs.jsonl", out / "metrics.jsonl", out / "audit.jsonl"]
    archive = Path(path.agent.env["AGENT_STORAGE_DIR"]) / "audit" / "audit.jsonl"
    strings = [s for sink in [*sinks, archive] if sink.exists() for s in _strings(read_requests(sink))]
    # Label values on the scrape page are escaped (\\, \", \n): search it as it is and unescaped.
    page = scrape()
    strings += [page, page.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")]
    text = "\n".join(strings)
    assert "corpus_values" in text and "sample 0" in text  # every signal did arrive
    assert "[REDACTED:" in text  # redacted, not dropped wholesale
    assert leaked(samples, text) == []
