"""What a finished span means for performance analysis: its operation and its attribution facts.

Operations follow the semantic conventions: a SERVER span is ``METHOD route`` (``http.route``,
else the span name); an HTTP CLIENT span is ``METHOD peer`` (``server.address``); a database
span is ``system operation`` (``db.system``/``db.system.name`` and ``db.operation.name``, else
the span name, which instrumentations keep low-cardinality); a ``PerformanceTimer`` span is its
``operation``. Other spans are not operations but still count in their request's attribution.

The span hook queues a :data:`SpanRecord` per span, not the span: a queue of finished spans keeps
thousands of SDK objects alive for the garbage collector to traverse on every collection, which
cost the application's thread more than everything else the hook does (about 12 us per span at
2,500 queued spans against under 1 us for a tuple of plain values). The record holds the span's
trace and span ids, not its ``SpanContext``: that context (and its ``TraceFlags``) dies with the
exported span instead of surviving, tracked by the collector, until the worker's pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind

from ricecoder_otel.performance.bottleneck import DATABASE, HTTP_CLIENT, categorize
from ricecoder_otel.performance.engine import Operation

SERVER = "server"
CLIENT = "client"
INTERNAL = "internal"
_KIND_NAMES = {kind: kind.name for kind in SpanKind}  # Enum.name is a property lookup, per span
MAX_CACHED = 4096


def _text(attributes: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def scope_name(scope: InstrumentationScope | None) -> str:
    """The instrumentation scope's name as text ("" without one; the API does not check its type)."""
    name = getattr(scope, "name", "")  # not scope.name: the compiled build would insist on text
    return name if type(name) is str else str(name)


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
