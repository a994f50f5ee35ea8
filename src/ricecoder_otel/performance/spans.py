"""What a finished span means for performance analysis: its operation and its attribution facts.

Operations follow the semantic conventions: a SERVER span is ``METHOD route`` (``http.route``,
else the span name); an HTTP CLIENT span is ``METHOD peer`` (``server.address``); a database
span is ``system operation`` (``db.system``/``db.system.name`` and ``db.operation.name``, else
the span name, which instrumentations keep low-cardinality); a ``PerformanceTimer`` span is its
``operation``. Other spans are not operations but still count in their request's attribution.

The span hook queues a :data:`SpanRecord` per span, not the span: a queue of finished spans keeps
thousands of SDK objects alive for the garbage collector to traverse on every collection, which
cost the application's thread more than everything else the hook does (about 12 us per span at
2,500 queued spans against under 1 us for a tuple of plain values). The record holds ints,
strings and the attribute dict, not the span's context objects: those die with the exported span
instead of surviving, tracked by the collector, until the worker's pass (a ``SpanContext`` and its
``TraceFlags``, two of the three objects per queued span).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from ricecoder_otel.kernel.span_hooks import span_attributes
from ricecoder_otel.performance.bottleneck import DATABASE, HTTP_CLIENT, categorize
from ricecoder_otel.performance.engine import Operation

SpanRecord = tuple[
    int, int, int | None, bool, int, str, str, int | None, int | None, Mapping[str, Any]
]
"""trace id, span id, parent span id (None for a root), whether the parent is remote, the kind's value
(:data:`KINDS` maps it back), name, instrumentation scope name ("" without one), start ns, end ns,
attributes: no object of the span but its attribute dict is kept alive."""

SERVER = "server"
CLIENT = "client"
INTERNAL = "internal"
_KIND_NAMES = {kind: kind.name for kind in SpanKind}  # Enum.name is a property lookup, per span
KINDS = {kind.value: kind for kind in SpanKind}
SERVER_KIND = SpanKind.SERVER.value
MAX_CACHED = 4096


def _text(attributes: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def span_record(span: ReadableSpan) -> SpanRecord | None:
    """The parts of a finished span the worker reads, without the span itself (None without a context).

    On the SDK's own ``ReadableSpan`` (what its processors receive) the fields are read directly:
    each public property is a Python call, and this runs on the application's thread for every
    span (``test_span_records`` checks both paths give the same record). A ``SpanContext`` is a
    tuple (trace id, span id, remote, ...) and an enum member keeps its value in ``_value_``: both
    are read without a property call.
    """
    if type(span) is ReadableSpan:
        raw: Any = span
        bounded, context, parent, scope = raw._attributes, raw._context, raw._parent, raw._instrumentation_scope
        attributes = bounded._dict if type(bounded) is BoundedAttributes else span_attributes(span)
        kind, name, start, end = raw._kind, raw._name, raw._start_time, raw._end_time
    else:
        context, parent, scope = span.get_span_context(), span.parent, span.instrumentation_scope
        attributes, kind, name, start, end = span_attributes(span), span.kind, span.name, span.start_time, span.end_time
    if context is None:
        return None
    return (context[0], context[1], None if parent is None else parent[1], parent is not None and parent[2],
            kind._value_, name, "" if scope is None else scope.name, start, end, attributes)  # fmt: skip


def route_of(name: str, attributes: Mapping[str, Any]) -> str:
    """The server operation's name: ``METHOD route`` (the span name when there is no route)."""
    route = _text(attributes, "http.route")
    method = _text(attributes, "http.request.method", "http.method")
    if route is None:
        return name
    return f"{method} {route}" if method else route


def server_operation(name: str, attributes: Mapping[str, Any], cache: dict[tuple[object, ...], Operation]) -> Operation:
    """A SERVER span's operation, remembered per (name, route, method): a server sees few distinct ones.

    ``cache`` is the caller's (one per worker) and is emptied when it reaches ``MAX_CACHED``.
    """
    get = attributes.get
    key = (name, get("http.route"), get("http.request.method"), get("http.method"))
    operation = cache.get(key)
    if operation is None:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        operation = cache[key] = Operation(SERVER, route_of(name, attributes))
    return operation


def classify(kind: SpanKind, name: str, scope: str, attributes: Mapping[str, Any]) -> tuple[str, Operation | None]:
    """A span's category of work and, when it is one, its operation (database, HTTP client, timer)."""
    category = categorize(_KIND_NAMES[kind], name, attributes, scope)
    operation: Operation | None = None
    if kind is SpanKind.SERVER:
        operation = Operation(SERVER, route_of(name, attributes))
    elif category == DATABASE:
        system = _text(attributes, "db.system.name", "db.system") or "db"
        verb = _text(attributes, "db.operation.name", "db.operation") or name
        operation = Operation(DATABASE, f"{system} {verb}")
    elif category == HTTP_CLIENT:
        method = _text(attributes, "http.request.method", "http.method") or "HTTP"
        peer = _text(attributes, "server.address", "net.peer.name", "peer.service") or name
        operation = Operation(CLIENT, f"{method} {peer}")
    elif kind is SpanKind.INTERNAL and "operation" in attributes and scope == "ricecoder_otel.performance":
        operation = Operation(INTERNAL, str(attributes["operation"]))
    return category, operation
