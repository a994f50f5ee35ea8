"""Nothing from a PII sample leaves the real pipeline: spans (name, attributes, events, links,
status), logs (body, attributes, hub events) and metric attributes, on in-memory exporters and
in the embedded SQLite store's files; a redacted record says how many values and which
detectors; policy changes apply live."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.kernel.events import Event
from ricecoder_otel.pipeline import Pipeline, build_pipeline
from ricecoder_otel.store import open_store
from ricecoder_otel.store.exporters import LocalLogExporter, LocalMetricExporter, LocalSpanExporter
from ricecoder_otel.testing import InMemoryMetricExporter
from tests.harness.pii import leaked, send_corpus

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFuYSJ9"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
# Each value must not appear anywhere downstream (the digits of the card in any spacing).
SECRETS = {
    "email": "ana.souza@example.com.br",
    "card": "4111 1111 1111 1111",
    "ssn": "536-22-8726",
    "iban": "DE89370400440532013000",
    "phone": "+44 20 7946 0958",
    "ip": "203.0.113.77",
    "jwt": JWT,
    "bearer": "8f7d6c5b4a39281706f5e4d3c2b1a0ff",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "abcd",
    "password": "Sup3rS3cret-pw",
}
NEEDLES = [*SECRETS.values(), "4111111111111111", "Sup3rS3cret"]
TEXT = (
    f"user {SECRETS['email']} paid with {SECRETS['card']} (ssn {SECRETS['ssn']}, iban {SECRETS['iban']}) "
    f"from {SECRETS['ip']}, call {SECRETS['phone']}; Authorization: Bearer {SECRETS['bearer']}; "
    f"token {SECRETS['jwt']} key {SECRETS['aws']} {SECRETS['github']} "
    f"db postgres://admin:{SECRETS['password']}@db.internal:5432/app"
)


@dataclass(frozen=True)
class SignupFailed(Event):
    event_name: ClassVar[str] = "test.signup_failed"
    email: str = ""

    def attributes(self) -> dict[str, str]:
        return {"user.email": self.email, "detail": TEXT}

    def body(self) -> str:
        return f"signup failed for {self.email}"


@pytest.fixture
def exporters(tmp_path: Path) -> Iterator[dict[str, object]]:
    store = open_store(str(tmp_path / "telemetry.db"))
    made: dict[str, object] = {
        "spans": InMemorySpanExporter(),
        "logs": InMemoryLogRecordExporter(),  # type: ignore[no-untyped-call]
        "metrics": InMemoryMetricExporter(),
        "store": store,
        "dir": tmp_path,
    }
    yield made
    store.close()


def _pipeline(exporters: dict[str, object], config: MonitoringConfig | None = None) -> Pipeline:
    store = exporters["store"]
    return build_pipeline(
        config or MonitoringConfig(),
        set_global=False,
        store=store,  # type: ignore[arg-type]
        span_exporters=[exporters["spans"], LocalSpanExporter(store=store)],  # type: ignore[list-item]
        metric_readers=[exporters["metrics"], LocalMetricExporter(store=store)],  # type: ignore[list-item]
        log_exporters=[exporters["logs"], LocalLogExporter(store=store)],  # type: ignore[list-item]
        watch_config=False,
    )


def _emit_everything(pipeline: Pipeline) -> None:
    tracer = pipeline.tracer_provider.get_tracer("shop")
    with tracer.start_as_current_span("warm-up") as other:
        pass
    with tracer.start_as_current_span(
        f"GET /users/{SECRETS['email']}",
        attributes={"user.email": SECRETS["email"], "db.password": SECRETS["password"], "note": TEXT,
                    "payload": '{{"card": "{}", "nested": {{"api_key": "x"}}}}'.format(SECRETS["card"]),
                    "http.route": "/users/{id}", "card.number.int": 4111111111111111},
        links=[Link(other.get_span_context(), {"referrer": SECRETS["email"]})],
    ) as span:
        span.add_event("lookup", {"query": TEXT})
        try:
            raise ValueError(f"bad card {SECRETS['card']} for {SECRETS['email']}")
        except ValueError as error:
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"failed for {SECRETS['email']}"))
    logger = logging.getLogger("shop.redaction-test")
    logger.propagate = False
    from opentelemetry.sdk._logs import LoggingHandler

    handler = LoggingHandler(logger_provider=pipeline.logger_provider)
    logger.addHandler(handler)
    try:
        logger.warning("checkout: %s", TEXT, extra={"customer": SECRETS["email"], "authorization": "Basic abc"})
    finally:
        logger.removeHandler(handler)
    pipeline.logger_provider.get_logger("shop").emit(
        body={"user": {"email": SECRETS["email"], "password": SECRETS["password"]}, "text": TEXT},
        attributes={"client.address": SECRETS["ip"]},
    )
    pipeline.hub.publish(SignupFailed(at=pipeline.hub.clock(), email=SECRETS["email"]))
    counter = pipeline.meter_provider.get_meter("shop").create_counter("logins")
    counter.add(1, {"user.email": SECRETS["email"], "plan": "pro"})
    counter.add(2, {"user.email": "bo@example.org", "plan": "pro"})
    pipeline.force_flush()


def _downstream_text(exporters: dict[str, object]) -> str:
    spans = exporters["spans"].get_finished_spans()  # type: ignore[attr-defined]
    logs = exporters["logs"].get_finished_logs()  # type: ignore[attr-defined]
    metrics = exporters["metrics"].collections  # type: ignore[attr-defined]
    parts = [s.to_json() for s in spans] + [r.to_json() for r in logs] + [m.to_json() for m in metrics if m]
    directory: Path = exporters["dir"]  # type: ignore[assignment]
    for file in directory.iterdir():  # the SQLite database, its WAL and anything else the store wrote
        parts.append(file.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_nothing_from_the_pii_sample_reaches_any_exporter_or_the_store(exporters: dict[str, object]) -> None:
    pipeline = _pipeline(exporters)
    try:
        _emit_everything(pipeline)
    finally:
        pipeline.shutdown()
    text = _downstream_text(exporters)
    assert "[REDACTED:email]" in text  # the pipeline ran and redacted
    leaked = [needle for needle in NEEDLES if needle in text]
    assert leaked == []
    store = exporters["store"]
    counts = store.counts()  # type: ignore[attr-defined]
    assert counts.spans >= 2 and counts.logs >= 3 and counts.metric_series >= 1


def test_a_redacted_record_says_how_many_values_and_which_detectors(exporters: dict[str, object]) -> None:
    pipeline = _pipeline(exporters)
    try:
        _emit_everything(pipeline)
    finally:
        pipeline.shutdown()
    [span] = [s for s in exporters["spans"].get_finished_spans() if s.name.startswith("GET")]  # type: ignore[attr-defined]
    assert span.name == "GET /users/[REDACTED:email]"
    attributes = dict(span.attributes or {})
    assert attributes["http.route"] == "/users/{id}"
    assert attributes["db.password"] == "[REDACTED:sensitive_key]"
    detectors = set(attributes["ricecoder.redacted.detectors"])  # type: ignore[arg-type]
    assert {"email", "credit_card", "ssn", "iban", "phone", "ip_address", "jwt", "bearer_token", "api_key",
            "url_credentials", "sensitive_key"} <= detectors
    assert attributes["ricecoder.redacted.count"] >= 20  # type: ignore[operator]
    exception = next(e for e in span.events if e.name == "exception")
    assert "[REDACTED:credit_card]" in str(exception.attributes["exception.message"])  # type: ignore[index]
    assert SECRETS["email"] not in str(exception.attributes["exception.stacktrace"])  # type: ignore[index]
    [link] = span.links
    assert dict(link.attributes or {}) == {"referrer": "[REDACTED:email]"}
    [record] = [r for r in exporters["logs"].get_finished_logs()  # type: ignore[attr-defined]
                if r.log_record.event_name == "test.signup_failed"]
    assert record.log_record.body == "signup failed for [REDACTED:email]"
    assert record.log_record.attributes["ricecoder.redacted.count"] >= 10  # type: ignore[index]
    # Two users' points merge into one series once their emails are masked (1 + 2).
    points = [p for m in exporters["metrics"].collections if m  # type: ignore[attr-defined]
              for rm in m.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
              if metric.name == "logins" for p in metric.data.data_points]
    assert {(dict(p.attributes)["user.email"], p.value) for p in points} == {("[REDACTED:email]", 3)}
    # ... and the redactions are counted per detector and signal, never with the values.
    latest = exporters["metrics"].collections[-1]  # type: ignore[attr-defined]
    counted = {(dict(p.attributes)["detector"], dict(p.attributes)["signal"]): p.value
               for rm in latest.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
               if metric.name == "ricecoder.redaction.values" for p in metric.data.data_points}
    assert counted[("email", "spans")] >= 2 and counted[("email", "logs")] >= 2 and counted[("email", "metrics")] >= 2


def test_policy_changes_apply_live(exporters: dict[str, object]) -> None:
    base = MonitoringConfig()
    pipeline = _pipeline(exporters, base)
    tracer = pipeline.tracer_provider.get_tracer("shop")
    hashed = MonitoringConfig.model_validate(
        {"compliance": {"redaction": {"actions": {"email": "hash"}, "hash_key": "k" * 32}}}
    )
    off = MonitoringConfig.model_validate({"compliance": {"redaction": {"enabled": False}}})
    try:
        # A change applies to what is exported after it: flush between phases.
        with tracer.start_as_current_span("a", attributes={"who": SECRETS["email"]}):
            pass
        pipeline.force_flush()
        pipeline.apply(base, hashed)
        for name in ("b", "c"):
            with tracer.start_as_current_span(name, attributes={"who": SECRETS["email"].upper()}):
                pass
        pipeline.force_flush()
        pipeline.apply(hashed, off)
        with tracer.start_as_current_span("d", attributes={"who": "plain@example.com"}):
            pass
        pipeline.force_flush()
    finally:
        pipeline.shutdown()
    who = {s.name: s.attributes["who"] for s in exporters["spans"].get_finished_spans()}  # type: ignore[attr-defined]
    assert who["a"] == "[REDACTED:email]"
    assert who["b"] == who["c"] and str(who["b"]).startswith("[HASHED:email:")  # joins across records
    assert who["d"] == "plain@example.com"  # redaction switched off live


def _every_value(exporters: dict[str, object]) -> str:
    """Everything the exporters received, as Python text (no JSON escaping), plus the store's files."""
    parts: list[str] = []
    for span in exporters["spans"].get_finished_spans():  # type: ignore[attr-defined]
        parts += [span.name, str(dict(span.attributes or {})), str(span.status.description)]
        parts += [f"{event.name} {dict(event.attributes or {})}" for event in span.events]
    for record in exporters["logs"].get_finished_logs():  # type: ignore[attr-defined]
        parts += [str(record.log_record.body), str(dict(record.log_record.attributes or {}))]
    for collection in exporters["metrics"].collections:  # type: ignore[attr-defined]
        for resource_metrics in collection.resource_metrics if collection else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    parts += [str(dict(point.attributes or {})) for point in metric.data.data_points]
    directory: Path = exporters["dir"]  # type: ignore[assignment]
    for file in directory.iterdir():
        raw = file.read_bytes()
        parts += [raw.decode("utf-8", "replace"), raw.decode("latin-1")]
    return "\n".join(parts)


def test_no_value_of_the_labelled_corpus_reaches_any_exporter_or_the_store(exporters: dict[str, object]) -> None:
    """The whole ``fresh`` corpus split (3,000 PII samples: log lines in several languages, URLs, JSON,
    logfmt, key/value pairs) as span attributes, log bodies or attributes, and metric attributes."""
    from benchmarks.redaction.corpus import corpus

    samples, _clean = corpus("fresh")
    send_corpus(_pipeline(exporters), samples, metric_samples=200)
    text = _every_value(exporters)
    assert len(exporters["spans"].get_finished_spans()) == len(samples)  # type: ignore[attr-defined]
    assert "[REDACTED:" in text
    assert leaked(samples, text) == []
