"""What a finished span means for performance analysis: its operation and its attribution facts.

Operations follow the semantic conventions: a SERVER span is ``METHOD route`` (``http.route``,
else the span name); an HTTP CLIENT span is ``METHOD peer`` (``server.address``); a database
span is ``system operation`` (``db.system``/``db.system.name`` and ``db.operation.name``, else
the span name, which instrumentations keep low-cardinality); a ``PerformanceTimer`` span is its
``operation``. Other spans are not operations but still count in their request's attribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.span_hooks import span_attributes
from ricecoder_otel.performance.bottleneck import DATABASE, HTTP_CLIENT, SpanFacts, categorize
from ricecoder_otel.performance.engine import Operation

SERVER = "server"
CLIENT = "client"
INTERNAL = "internal"
_KIND_NAMES = {kind: kind.name for kind in SpanKind}  # Enum.name is a property lookup, per span


def _text(attributes: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def route_of(span: ReadableSpan, attributes: Mapping[str, Any] | None = None) -> str:
    """The server operation's name: ``METHOD route`` (the span name when there is no route)."""
    if attributes is None:
        attributes = span.attributes or {}
    route = _text(attributes, "http.route")
    method = _text(attributes, "http.request.method", "http.method")
    if route is None:
        return span.name
    return f"{method} {route}" if method else route


def facts(span: ReadableSpan) -> tuple[SpanFacts, Operation | None]:
    """The span's attribution facts and, when it is one, its operation."""
    attributes = span_attributes(span)
    scope = span.instrumentation_scope.name if span.instrumentation_scope is not None else ""
    kind = span.kind
    category = categorize(_KIND_NAMES[kind], span.name, attributes, scope)
    context = span.get_span_context()
    parent = span.parent
    fact = SpanFacts(
        span_id=context.span_id if context is not None else 0,
        parent_id=parent.span_id if parent is not None else None,
        category=category,
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
    )
    operation: Operation | None = None
    if kind is SpanKind.SERVER:
        operation = Operation(SERVER, route_of(span, attributes))
    elif category == DATABASE:
        system = _text(attributes, "db.system.name", "db.system") or "db"
        verb = _text(attributes, "db.operation.name", "db.operation") or span.name
        operation = Operation(DATABASE, f"{system} {verb}")
    elif category == HTTP_CLIENT:
        method = _text(attributes, "http.request.method", "http.method") or "HTTP"
        peer = _text(attributes, "server.address", "net.peer.name", "peer.service") or span.name
        operation = Operation(CLIENT, f"{method} {peer}")
    elif kind is SpanKind.INTERNAL and "operation" in attributes and scope == "ricecoder_otel.performance":
        operation = Operation(INTERNAL, str(attributes["operation"]))
    return fact, operation


def is_local_root(span: ReadableSpan) -> bool:
    """No parent in this process: the request's entry span here."""
    return span.parent is None or span.parent.is_remote
