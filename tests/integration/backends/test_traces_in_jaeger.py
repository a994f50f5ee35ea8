"""Traces through the shipped agent -> gateway path into a real Jaeger v2, queried back over its HTTP API.

The gateway is pointed at Jaeger only through ``GATEWAY_BACKEND_OTLP_ENDPOINT`` (its
``otlp_http/backend`` exporter); every trace is kept by the tail sampler
(``GATEWAY_SAMPLING_PERCENTAGE=100``). Two producers:

- the example shop under ``opentelemetry-instrument`` (traffic, then the failing payment route),
  with its embedded store as ground truth: every trace it produced is found in Jaeger with the
  same span names, parent links, attributes and status;
- the anomaly scenario of feed.py: the exemplar trace id each ``ricecoder.anomaly`` event
  carries (read from the gateway's logs sink, as an operator would from the event) opens that
  trace in Jaeger, and the failed payment keeps its error status and message.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ricecoder_otel.store import open_store
from ricecoder_otel.store.records import SpanRecord
from tests.harness.collector import iter_logs, wait_until
from tests.harness.jaeger import JaegerServer, start_jaeger
from tests.harness.shop import drive, start_shop
from tests.integration.backends.conftest import CollectorPath, Stoppable, http_status, path_env, start_path
from tests.integration.backends.feed import FAILURE, PAYMENT, ROUTE, SERVICE, feed
from tests.integration.backends.otlp_json import attributes, sdk_value

STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


def _status(span: dict[str, Any]) -> tuple[str, str]:
    """(code, message) of an OTLP JSON span, whatever form the enum takes."""
    status = span.get("status") or {}
    code = status.get("code", 0)
    name = STATUS[code] if isinstance(code, int) else str(code).removeprefix("STATUS_CODE_")
    return name, status.get("message", "")


def _spans(resource_spans: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for rs in resource_spans:
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                yield attributes(rs.get("resource", {})), span


def _hex(value: str) -> str:
    """Jaeger's v3 JSON may give ids in hex or base64; compare in hex."""
    if len(value) in (16, 32) and all(c in "0123456789abcdef" for c in value):
        return value
    return base64.b64decode(value).hex()


def _start(tmp_path: Path, stack: list[Stoppable]) -> tuple[JaegerServer, CollectorPath]:
    jaeger = start_jaeger(tmp_path / "jaeger")
    stack.append(jaeger)
    agent_env, gateway_env = path_env(tmp_path, backend_otlp=jaeger.otlp_http)
    path = start_path(tmp_path, agent_env, gateway_env)
    stack.append(path)
    return jaeger, path


def _wait_for_trace(jaeger: JaegerServer, trace_id: str, spans: int) -> list[dict[str, Any]]:
    found: list[list[dict[str, Any]]] = []

    def complete() -> bool:
        trace = jaeger.trace_otlp(trace_id)
        found[:] = [trace or []]
        return sum(1 for _ in _spans(trace or [])) >= spans

    wait_until(complete, f"trace {trace_id} with {spans} spans in Jaeger", 60)
    return found[0]


def test_the_shops_traces_are_in_jaeger_with_names_attributes_and_status(
    tmp_path: Path, stack: list[Stoppable]
) -> None:
    jaeger, path = _start(tmp_path, stack)
    store_path = tmp_path / "telemetry.db"
    shop = start_shop(
        tmp_path,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": path.agent_grpc,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_EXPORTER": "otlp,ricecoder_local",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "RICECODER_STORE_PATH": str(store_path),
        },
    )
    try:
        drive(shop, 3)
        assert http_status(f"{shop.base_url}/payments/flaky") == 500
    finally:
        shop.stop()
    with open_store(str(store_path)) as store:
        produced: list[SpanRecord] = store.query_spans(limit=1_000_000)
    traces: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in produced:
        traces[span.trace_id].append(span)
    assert any(s.status_code == "ERROR" for s in produced)

    # The search the Jaeger UI runs: every trace of the service.
    wait_until(
        lambda: {t["traceID"] for t in jaeger.find_traces("shop")} >= set(traces),
        f"all {len(traces)} shop traces in Jaeger's search",
        90,
    )
    assert "shop" in jaeger.services()
    for trace_id, spans in traces.items():
        arrived = {_hex(s["spanId"]): (r, s) for r, s in _spans(_wait_for_trace(jaeger, trace_id, len(spans)))}
        assert set(arrived) == {s.span_id for s in spans}, trace_id
        for sent in spans:
            resource, got = arrived[sent.span_id]
            assert got["name"] == sent.name
            assert _hex(got.get("parentSpanId") or "") == (sent.parent_span_id or ""), sent.name
            got_attrs = attributes(got)
            for key, value in sent.attributes.items():
                assert got_attrs.get(key) == sdk_value(value), (sent.name, key)
            extra = set(got_attrs) - set(sent.attributes)
            assert all(k.startswith("redaction.") for k in extra), (sent.name, sorted(extra))
            assert _status(got) == (sent.status_code, sent.status_message), sent.name
            assert resource["service.name"] == "shop"
    # The failing route as the Jaeger UI shows it: error tag and status on the server span.
    failing = next(s for s in produced if s.attributes.get("http.route") == "/payments/flaky" and s.kind == "SERVER")
    ui = jaeger.trace_v1(failing.trace_id)
    assert ui is not None
    [server] = [s for s in ui["spans"] if s["spanID"] == failing.span_id]
    tags = {t["key"]: t["value"] for t in server["tags"]}
    assert server["operationName"] == failing.name
    assert tags["otel.status_code"] == "ERROR" and tags["error"] is True
    assert tags["http.route"] == "/payments/flaky"


def test_the_exemplar_trace_of_an_anomaly_event_opens_in_jaeger(tmp_path: Path, stack: list[Stoppable]) -> None:
    jaeger, path = _start(tmp_path, stack)
    fed = feed(path.agent_http, tmp_path)
    by_id = {f"{s.context.trace_id:032x}": s for s in fed.spans if s.name != "ricecoder.anomaly"}

    def exemplars() -> set[str]:
        return {
            str(attributes(record)["ricecoder.anomaly.exemplar.trace_id"])
            for _, record in iter_logs(path.gateway_out / "logs.jsonl")
            if record.get("eventName") == "ricecoder.anomaly"
            and "ricecoder.anomaly.exemplar.trace_id" in attributes(record)
        }

    wait_until(lambda: bool(exemplars()), "a ricecoder.anomaly event with an exemplar in the gateway's logs sink", 60)
    for trace_id in exemplars():
        sent = by_id[trace_id]
        # The request's span, and the tag the anomaly detector added to the exemplar's trace.
        spans = list(_spans(_wait_for_trace(jaeger, trace_id, 2)))
        [(resource, got)] = [(r, s) for r, s in spans if s["name"] == sent.name]
        assert got["name"] == sent.name == f"GET {ROUTE}"
        assert {k: attributes(got)[k] for k in sent.attributes or {}} == {
            k: sdk_value(v) for k, v in (sent.attributes or {}).items()
        }
        assert resource["service.name"] == SERVICE
        [(_, tag)] = [(r, s) for r, s in spans if s["name"] == "ricecoder.anomaly"]
        assert attributes(tag)["ricecoder.anomaly"] is True
        assert _hex(tag["parentSpanId"]) == _hex(got["spanId"])

    # The failed payment: both spans, the error status and its message on each.
    failed = _wait_for_trace(jaeger, fed.failed_trace, 2)
    statuses = {span["name"]: _status(span) for _, span in _spans(failed)}
    assert statuses == {PAYMENT: ("ERROR", FAILURE), "POST": ("ERROR", FAILURE)}
