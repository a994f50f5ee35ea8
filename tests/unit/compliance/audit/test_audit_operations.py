"""Spans on routes or with names tagged ``phi`` / ``admin`` are audited automatically, through the
real pipeline and a real journal, without the application thread waiting for the fsync."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ricecoder_otel.compliance.audit import verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.compliance.audit.operations import CACHE_LIMIT, OperationMatcher
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.config.model import AuditedOperations
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.testing import RicecoderCapture

KEY = "a-checkpoint-key-of-32-characters"
OPERATIONS = [
    {"tag": "phi", "routes": ["/patients/*", "/records/{id}"]},
    {"tag": "admin", "routes": ["/admin/*"], "span_names": ["admin.*"]},
]


def config(directory: Path, **audit_options: Any) -> MonitoringConfig:
    audit = {"path": str(directory), "checkpoint_key": KEY, "operations": OPERATIONS, **audit_options}
    return MonitoringConfig.model_validate({"compliance": {"audit": audit}})


def records(directory: Path) -> list[dict[str, Any]]:
    path = directory / JOURNAL
    return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)


def serve(route: str, status: int, user: str | None = None, *, kind: SpanKind = SpanKind.SERVER) -> trace.Span:
    attributes: dict[str, Any] = {"http.route": route, "http.request.method": "GET",
                                  "http.response.status_code": status}  # fmt: skip
    if user is not None:
        attributes["enduser.id"] = user
    span = trace.get_tracer("test").start_span(f"GET {route}", kind=kind, attributes=attributes)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end()
    return span


@contextmanager
def journal_held(directory: Path) -> Iterator[None]:
    """Another process's writer holding the journal's lock: every append waits until it is released."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / JOURNAL, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def test_tagged_routes_and_span_names_are_audited_with_outcome_actor_and_trace(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path))
    try:
        read = serve("/patients/{id}", 200, "alice")
        denied = serve("/records/{id}", 403, "bob")
        failed = serve("/admin/users", 500)
        serve("/health", 200, "alice")  # untagged
        serve("/patients/{id}", 200, "alice", kind=SpanKind.CLIENT)  # routes match server spans only
        with trace.get_tracer("test").start_as_current_span(
            "admin.rotate_keys", attributes={"user.id": "carol"}
        ) as job:
            pass
        wait_for(lambda: len(records(tmp_path)) == 4)
        stored = records(tmp_path)
        by_resource = {r["resource"]: r for r in stored}
        assert set(by_resource) == {"/patients/{id}", "/records/{id}", "/admin/users", "admin.rotate_keys"}

        phi = by_resource["/patients/{id}"]
        assert (phi["action"], phi["outcome"], phi["actor"]) == ("access.phi", "success", "alice")
        assert phi["trace_id"] == format(read.get_span_context().trace_id, "032x")
        assert phi["span_id"] == format(read.get_span_context().span_id, "016x")
        assert phi["details"]["tag"] == "phi" and phi["details"]["pattern"] == "/patients/*"
        assert phi["details"]["http.response.status_code"] == 200
        assert by_resource["/records/{id}"]["outcome"] == "denied"
        assert by_resource["/records/{id}"]["span_id"] == format(denied.get_span_context().span_id, "016x")
        admin = by_resource["/admin/users"]
        assert (admin["action"], admin["outcome"], admin["actor"]) == ("access.admin", "error", "anonymous")
        assert admin["span_id"] == format(failed.get_span_context().span_id, "016x")
        named = by_resource["admin.rotate_keys"]
        assert (named["action"], named["actor"], named["details"]["match"]) == ("access.admin", "carol", "span_name")
        assert named["span_id"] == format(job.get_span_context().span_id, "016x")

        def exported() -> set[object]:  # emitted by the writer thread right after the append
            return {(e.log_record.attributes or {})["ricecoder.audit.id"] for e in capture.events("ricecoder.audit")}

        wait_for(lambda: exported() == {r["hash"] for r in stored})
    finally:
        capture.close()
    assert verify_journal(tmp_path, KEY.encode()).ok


def test_actors_of_audited_spans_are_pseudonymised_when_configured(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path, pseudonymise_actors=True, pseudonym_key="p" * 32))
    try:
        serve("/patients/{id}", 200, "alice@example.com")
        serve("/patients/{id}", 200, "alice@example.com")
        serve("/patients/{id}", 200)
        wait_for(lambda: len(records(tmp_path)) == 3)
    finally:
        capture.close()
    first, second, anonymous = (r["actor"] for r in records(tmp_path))
    assert first == second and first.startswith("hmac:")
    assert anonymous == "anonymous"
    assert "alice" not in (tmp_path / JOURNAL).read_text()


def test_the_application_thread_does_not_wait_for_the_journal(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path))
    try:
        with journal_held(tmp_path):
            for _ in range(5):
                serve("/patients/{id}", 200, "alice")  # returns although no append can complete
            assert records(tmp_path) == []
        wait_for(lambda: len(records(tmp_path)) == 5)
    finally:
        capture.close()
    assert verify_journal(tmp_path, KEY.encode()).records == 5


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path, operations_queue=2))
    writer = capture.pipeline.capability("audit").writer  # type: ignore[attr-defined]
    before = SELF_TELEMETRY.snapshot().dropped.get("audit", 0)
    try:
        with journal_held(tmp_path):
            serve("/patients/{id}", 200, "alice")
            wait_for(lambda: writer.pending() == 0)  # the writer holds it, waiting for the journal
            for _ in range(10):
                serve("/patients/{id}", 200, "alice")
            assert writer.pending() == 2
            assert SELF_TELEMETRY.snapshot().dropped.get("audit", 0) - before == 8
        wait_for(lambda: len(records(tmp_path)) == 3)
    finally:
        capture.close()


def test_audited_operations_change_live_and_stop_with_the_capability(tmp_path: Path) -> None:
    capture = RicecoderCapture(config(tmp_path, operations=[]))
    try:
        serve("/patients/{id}", 200, "alice")
        current = capture.config
        audit = current.compliance.audit.model_copy(
            update={"operations": [AuditedOperations(tag="phi", routes=["/patients/*"])]}
        )
        new = current.model_copy(update={"compliance": current.compliance.model_copy(update={"audit": audit})})
        capture.pipeline.apply(current, new)
        serve("/patients/{id}", 200, "bob")
        wait_for(lambda: any(r["action"] == "access.phi" for r in records(tmp_path)))
        [access] = [r for r in records(tmp_path) if r["action"] == "access.phi"]
        assert access["actor"] == "bob"
    finally:
        capture.close()


def test_matching_is_cached_per_string_and_bounded() -> None:
    matcher = OperationMatcher([AuditedOperations(tag="phi", routes=["/patients/*"], span_names=["ehr.?ead"])])
    assert matcher.route("/patients/{id}") == matcher.route("/patients/{id}")
    assert matcher.route("/patients/{id}").action == "access.phi"  # type: ignore[union-attr]
    assert matcher.route("/health") is None
    assert matcher.name("ehr.read") is not None and matcher.name("ehr.write") is None
    for i in range(CACHE_LIMIT * 2):
        matcher.route(f"/orders/{i}")
    assert len(matcher._route_cache) <= CACHE_LIMIT
    assert matcher.route("/patients/7") is not None
