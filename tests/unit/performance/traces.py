"""Hand-built request traces with exact span times, recorded through the real pipeline's tracer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import SpanKind

MS = 1_000_000
T0 = 1_700_000_000 * 1_000_000_000


@dataclass(frozen=True)
class Child:
    name: str
    start_ms: float
    end_ms: float
    kind: SpanKind = SpanKind.INTERNAL
    attributes: dict[str, str] | None = None


def db(start_ms: float, end_ms: float) -> Child:
    return Child("SELECT", start_ms, end_ms, SpanKind.CLIENT, {"db.system": "sqlite", "db.statement": "SELECT 1"})


def http(start_ms: float, end_ms: float) -> Child:
    return Child(
        "GET", start_ms, end_ms, SpanKind.CLIENT, {"http.request.method": "GET", "server.address": "pay.example"}
    )


def template(start_ms: float, end_ms: float) -> Child:
    return Child("jinja2.render", start_ms, end_ms)


def request(
    route: str, duration_ms: float, children: Sequence[Child] = (), *, method: str = "GET", offset_ns: int = 0
) -> str:
    """One server span of ``duration_ms`` with ``children`` (times relative to its start); its trace id."""
    tracer = trace.get_tracer("tests.performance")
    start = T0 + offset_ns
    server = tracer.start_span(
        f"{method} {route}", kind=SpanKind.SERVER, start_time=start,
        attributes={"http.route": route, "http.request.method": method},
    )  # fmt: skip
    parent = trace.set_span_in_context(server)
    for child in children:
        span = tracer.start_span(
            child.name, context=parent, kind=child.kind, start_time=start + int(child.start_ms * MS),
            attributes=child.attributes or {},
        )  # fmt: skip
        span.end(end_time=start + int(child.end_ms * MS))
    server.end(end_time=start + int(duration_ms * MS))
    return f"{server.get_span_context().trace_id:032x}"
