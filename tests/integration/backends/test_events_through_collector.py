"""ricecoder's event records cross the shipped agent -> gateway path with their event name and attributes.

The service (feed.py) emits ``ricecoder.anomaly``, ``ricecoder.alert``,
``ricecoder.config.changed`` and ``ricecoder.audit`` log records over OTLP/HTTP to the agent.
The gateway's file sinks are read back: events in ``logs.jsonl``, audit records (their own
persistent pipeline on both tiers) in ``audit.jsonl`` and in the agent's local archive. Every
attribute the SDK exported arrives with the same value; the only additions are the redaction
processor's ``redaction.*`` summary attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord

from tests.harness.collector import iter_logs, wait_until
from tests.integration.backends.conftest import Stoppable, path_env, start_path
from tests.integration.backends.feed import EVENTS, SERVICE, Fed, feed
from tests.integration.backends.otlp_json import attributes, plain, sdk_value


def _arrived(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource attributes, log record) of every record in a sink file."""
    for resource, record in iter_logs(path):
        yield attributes(resource), record


def _sent(record: ReadableLogRecord) -> dict[str, Any]:
    return {k: sdk_value(v) for k, v in (record.log_record.attributes or {}).items()}


def _same(key: str, sent: Any, got: Any) -> bool:
    return bool(got == sent)


def _match(
    name: str, sent: dict[str, Any], arrived: list[tuple[dict[str, Any], dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The arrived record with this event name carrying every sent attribute with its value."""
    for resource, record in arrived:
        got = attributes(record)
        if record.get("eventName") == name and all(_same(k, v, got.get(k)) for k, v in sent.items()):
            return resource, record
    return None


def test_event_records_keep_event_name_and_attributes_across_the_collector(
    tmp_path: Path, stack: list[Stoppable]
) -> None:
    agent_env, gateway_env = path_env(tmp_path)
    path = start_path(tmp_path, agent_env, gateway_env)
    stack.append(path)
    fed: Fed = feed(path.agent_http, tmp_path)
    names = {r.log_record.event_name for r in fed.records if r.log_record.event_name}
    assert set(EVENTS) <= names, names
    expected = {name: fed.events(name) for name in names}
    assert any("ricecoder.anomaly.exemplar.trace_id" in _sent(r) for r in expected["ricecoder.anomaly"])

    logs_sink = path.gateway_out / "logs.jsonl"
    audit_sink = path.gateway_out / "audit.jsonl"
    archive = Path(path.agent.env["AGENT_STORAGE_DIR"]) / "audit" / "audit.jsonl"

    def arrived() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [*_arrived(logs_sink), *_arrived(audit_sink)]

    def unmatched() -> list[str]:
        now = arrived()
        return [
            f"{name} {_sent(r)}: arrived as {[attributes(x) for _, x in now if x.get('eventName') == name]}"
            for name, rs in expected.items()
            for r in rs
            if _match(name, _sent(r), now) is None
        ]

    total = sum(len(records) for records in expected.values())
    try:
        wait_until(lambda: not unmatched(), f"all {total} event records, attributes intact, in the sinks", 60)
    except AssertionError as error:
        raise AssertionError(f"{error}:\n" + "\n".join(unmatched())) from None
    now = arrived()
    for name, records in expected.items():
        for sent in records:
            matched = _match(name, _sent(sent), now)
            assert matched is not None
            resource, record = matched
            extra = set(attributes(record)) - set(_sent(sent))
            assert all(k.startswith("redaction.") for k in extra), sorted(extra)
            assert plain(record["body"]) == sent.log_record.body
            assert record["severityText"] == sent.log_record.severity_text
            assert resource["service.name"] == SERVICE
            assert "host.name" in resource  # the agent's resource detection
            if sent.log_record.trace_id:
                assert record["traceId"] == f"{sent.log_record.trace_id:032x}"

    # Events travel the logs pipeline, audit records only the audit pipeline (and the agent's archive).
    in_logs = {record.get("eventName") for _, record in _arrived(logs_sink)}
    in_audit = {record.get("eventName") for _, record in _arrived(audit_sink)}
    assert in_logs == names - {"ricecoder.audit"}
    assert in_audit == {"ricecoder.audit"}
    archived = {attributes(record)["ricecoder.audit.id"] for _, record in _arrived(archive)}
    assert archived == {_sent(r)["ricecoder.audit.id"] for r in expected["ricecoder.audit"]}
