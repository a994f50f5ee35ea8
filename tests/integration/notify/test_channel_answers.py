"""Every SaaS channel (Slack, PagerDuty, OpsGenie) against every answer a loopback receiver gives:
success, 400, 429 with Retry-After, 500, a timeout and no listener, and what the outbox does with each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.http_receiver import Answer, Receiver
from tests.harness.ports import free_port
from tests.integration.notify.conftest import START, notification

ROUTING_KEY = "0123456789abcdef0123456789abcdef"
OK = {"slack": Answer(200, "ok"),
      "pagerduty": Answer(202, '{"status":"success","message":"Event processed","dedup_key":"k"}'),
      "opsgenie": Answer(202, '{"result":"Request will be processed","took":0.3,"requestId":"r1"}')}  # fmt: skip


def channel(kind: str, url: str) -> dict[str, Any]:
    common = {"name": "c", "type": kind, "timeout": "0.3s"}
    if kind == "slack":
        return {**common, "url": url + "/services/T0/B0/XXXX"}
    if kind == "pagerduty":
        return {**common, "routing_key": ROUTING_KEY, "url": url + "/v2/enqueue"}
    return {**common, "api_key": "genie-key-123", "api_url": url}


def check_request(kind: str, request: Any) -> None:
    """The documented request of each service (path, headers, body basics)."""
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    body = request.json()
    if kind == "slack":
        assert request.path == "/services/T0/B0/XXXX" and body["text"] == "[FIRING:1] HighErrorRate"
    elif kind == "pagerduty":
        assert request.path == "/v2/enqueue" and body["routing_key"] == ROUTING_KEY
        assert body["event_action"] == "trigger" and body["payload"]["severity"] == "critical"
    else:
        assert request.path == "/v2/alerts" and request.headers["authorization"] == "GenieKey genie-key-123"
        assert body["message"] == "[FIRING:1] HighErrorRate" and body["priority"] == "P1"


KINDS = ("slack", "pagerduty", "opsgenie")


@pytest.mark.parametrize("kind", KINDS)
def test_success_is_delivered_once(make_outbox: Any, receiver: Receiver, kind: str) -> None:
    outbox = make_outbox([channel(kind, receiver.url)])
    receiver.answer(OK[kind])
    msg = outbox.queue("c", notification())
    assert outbox.worker.run_once() == 1
    row = outbox.state(msg)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 1, OK[kind].status)
    [request] = receiver.received()
    check_request(kind, request)


@pytest.mark.parametrize("kind", KINDS)
def test_400_is_a_dead_letter_without_retry(make_outbox: Any, receiver: Receiver, kind: str) -> None:
    outbox = make_outbox([channel(kind, receiver.url)])
    receiver.answer(Answer(400, "invalid_payload"))
    msg = outbox.queue("c", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert (row.state, row.attempts, row.last_status) == ("dead", 1, 400)
    assert "invalid_payload" in row.last_error
    outbox.clock.advance(3600)
    assert outbox.worker.run_once() == 0 and len(receiver.received()) == 1  # never sent again


@pytest.mark.parametrize("kind", KINDS)
def test_429_waits_for_retry_after_then_delivers(make_outbox: Any, receiver: Receiver, kind: str) -> None:
    outbox = make_outbox([channel(kind, receiver.url)])
    receiver.answer(Answer(429, "rate_limited", {"Retry-After": "30"}), OK[kind])
    msg = outbox.queue("c", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert (row.state, row.last_status) == ("pending", 429) and row.next_attempt_ns >= (START + 30) * 1e9
    outbox.clock.advance(29.9)
    assert outbox.worker.run_once() == 0  # not before Retry-After, although backoff alone would be ~1 s
    outbox.clock.advance(0.1)
    assert outbox.worker.run_once() == 1
    assert outbox.state(msg).state == "delivered"
    first, second = receiver.received()
    assert first.body == second.body  # the same request again
    check_request(kind, second)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("failure", ["500", "timeout", "unreachable"])
def test_transient_failures_are_retried_with_backoff_then_delivered(make_outbox: Any, receiver: Receiver, kind: str,
                                                                    failure: str) -> None:  # fmt: skip
    url = receiver.url
    if failure == "unreachable":
        url = f"http://127.0.0.1:{free_port()}"  # reserved: nobody listens on it
    outbox = make_outbox([channel(kind, url)])
    if failure == "500":
        receiver.answer(Answer(500, "rollup_error"))
    elif failure == "timeout":
        receiver.answer(Answer(OK[kind].status, delay=1.5))
    msg = outbox.queue("c", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert row.state == "pending" and row.attempts == 1
    expected = {"500": "HTTP 500: rollup_error", "timeout": "timed out after 0.3s",
                "unreachable": "cannot reach the receiver"}[failure]  # fmt: skip
    assert row.last_error.startswith(expected)
    wait = row.next_attempt_ns / 1e9 - START
    assert 0.5 <= wait <= 1.0  # the first backoff step (1 s base, jittered)
    if failure == "unreachable":
        return  # nothing would ever answer: the retry schedule is what is checked
    receiver.answer(OK[kind])
    outbox.clock.advance(wait)
    if kind == "slack" and wait < 1.0:  # Slack: one message per second per webhook, whatever the backoff
        assert outbox.worker.run_once() == 0
        outbox.clock.advance(1.0 - wait)
    assert outbox.worker.run_once() == 1
    assert outbox.state(msg).state == "delivered" and outbox.state(msg).attempts == 2
    requests = receiver.wait_for(2)
    assert requests[0].body == requests[1].body
    check_request(kind, requests[1])
