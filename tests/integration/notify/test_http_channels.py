"""Channels against loopback receivers: the exact documented request, and the outbox's answer
to 202, 400, 429 with Retry-After, 500 and timeouts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from ricecoder_otel.alerting.notify.alert import fingerprint
from tests.harness.http_receiver import Answer, Receiver
from tests.integration.notify.conftest import START, notification

DEDUP = hashlib.sha256(b'{}:{alertname="HighErrorRate"}').hexdigest()
ROUTING_KEY = "0123456789abcdef0123456789abcdef"
FP = fingerprint({"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"})


def test_webhook_sends_the_alertmanager_v4_body_signed_with_standard_webhooks(
    make_outbox: Any, receiver: Receiver
) -> None:
    key = base64.b64encode(b"top-secret-key").decode()
    outbox = make_outbox([{"name": "hook", "type": "webhook", "url": receiver.url + "/alerts?token=abc",
                           "signing_secret": "whsec_" + key, "github_signature": True}])  # fmt: skip
    msg_id = outbox.queue("hook", notification())
    assert outbox.worker.run_once() == 1
    [request] = receiver.received()
    assert request.path == "/alerts?token=abc" and request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == msg_id and request.headers["webhook-timestamp"] == str(int(START))
    signed = f"{msg_id}.{int(START)}.".encode() + request.body
    expected = base64.b64encode(hmac.new(b"top-secret-key", signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"
    github = hmac.new(("whsec_" + key).encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-hub-signature-256"] == f"sha256={github}"
    assert request.json() == {
        "version": "4", "groupKey": '{}:{alertname="HighErrorRate"}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "ops", "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
        "commonAnnotations": {"summary": "5xx ratio above 2%"}, "externalURL": "",
        "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "checkout",
                                                   "severity": "critical"},
                    "annotations": {"summary": "5xx ratio above 2%"}, "startsAt": "2025-11-29T13:50:00.000Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": FP}],
    }  # fmt: skip
    assert outbox.state(msg_id).state == "delivered"


def test_slack_blocks_fallback_and_429_retry_after_pauses_the_channel(make_outbox: Any, receiver: Receiver) -> None:
    outbox = make_outbox([{"name": "slack", "type": "slack", "url": receiver.url + "/services/T0/B0/XXXX"}])
    receiver.answer(Answer(429, "rate_limited", {"Retry-After": "7"}), Answer(200, "ok"), Answer(200, "ok"))
    first = outbox.queue("slack", notification())
    second = outbox.queue("slack", notification("resolved"))
    assert outbox.worker.run_once() == 1  # one message per second per webhook
    assert outbox.state(first).state == "pending" and outbox.state(first).last_status == 429
    assert outbox.state(first).next_attempt_ns >= (START + 7) * 1e9
    outbox.clock.advance(6.9)
    assert outbox.worker.run_once() == 0  # the whole channel waits for Retry-After
    outbox.clock.advance(0.1)
    assert outbox.worker.run_once() == 1
    outbox.clock.advance(1)
    assert outbox.worker.run_once() == 1
    assert [outbox.state(m).state for m in (first, second)] == ["delivered", "delivered"]
    body = receiver.received()[0].json()
    assert body["text"] == "[FIRING:1] HighErrorRate"
    header = {"type": "plain_text", "text": "🔥 [FIRING:1] HighErrorRate"}
    assert body["blocks"][0] == {"type": "header", "text": header}
    assert body["blocks"][1]["type"] == "section" and "5xx ratio above 2%" in body["blocks"][1]["text"]["text"]
    assert body["attachments"] == [{"color": "#E01E5A", "fallback": "[FIRING:1] HighErrorRate",
                                    "fields": [{"title": "severity", "value": "critical", "short": True}]}]  # fmt: skip
    assert receiver.received()[2].json()["attachments"][0]["color"] == "#2EB67D"


def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(make_outbox: Any, receiver: Receiver) -> None:
    outbox = make_outbox([{"name": "pd", "type": "pagerduty", "routing_key": ROUTING_KEY,
                           "url": receiver.url + "/v2/enqueue"}])  # fmt: skip
    ok = Answer(202, json.dumps({"status": "success", "message": "Event processed", "dedup_key": DEDUP}))
    receiver.answer(ok, ok, ok)
    for n in (notification(), notification(action="acknowledge"), notification("resolved")):
        outbox.queue("pd", n)
        outbox.worker.run_once()
    trigger, ack, resolve = (r.json() for r in receiver.received())
    assert {r.path for r in receiver.received()} == {"/v2/enqueue"}
    assert ack == {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": DEDUP}
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": DEDUP}
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == DEDUP
    assert trigger["client"] == "ricecoder-otel"
    payload = trigger["payload"]
    assert {k: payload[k] for k in ("summary", "source", "severity", "timestamp", "group", "class")} == {
        "summary": "[FIRING:1] HighErrorRate", "source": "ricecoder-otel", "severity": "critical",
        "timestamp": "2025-11-29T13:50:00.000Z", "group": "checkout", "class": "HighErrorRate"}  # fmt: skip


def test_pagerduty_400_is_a_dead_letter_at_once_and_500_is_retried_with_backoff(
    make_outbox: Any, receiver: Receiver
) -> None:
    outbox = make_outbox([{"name": "pd", "type": "pagerduty", "routing_key": ROUTING_KEY,
                           "url": receiver.url + "/v2/enqueue"}], max_attempts=3)  # fmt: skip
    receiver.answer(Answer(400, '{"status":"invalid event","errors":["payload.summary missing"]}'))
    bad = outbox.queue("pd", notification())
    outbox.worker.run_once()
    row = outbox.state(bad)
    assert (row.state, row.attempts, row.last_status) == ("dead", 1, 400)
    assert "payload.summary missing" in row.last_error and ROUTING_KEY not in row.last_error
    receiver.answer(Answer(500), Answer(503), Answer(500))
    flaky = outbox.queue("pd", notification())
    delays = []
    for _ in range(3):
        before = outbox.clock()
        assert outbox.worker.run_once() == 1
        row = outbox.state(flaky)
        if row.state == "pending":
            delays.append(row.next_attempt_ns / 1e9 - before)
            outbox.clock.advance(delays[-1])
    assert (row.state, row.attempts) == ("dead", 3)  # dead letter after the last attempt
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0  # exponential, jittered


def test_a_timeout_is_retried(make_outbox: Any, receiver: Receiver) -> None:
    outbox = make_outbox([{"name": "pd", "type": "pagerduty", "routing_key": ROUTING_KEY,
                           "url": receiver.url + "/v2/enqueue", "timeout": "0.2s"}])  # fmt: skip
    receiver.answer(Answer(202, delay=1.0))
    msg = outbox.queue("pd", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert row.state == "pending" and row.last_error == "timed out after 0.2s"
    outbox.clock.advance(2)
    outbox.worker.run_once()
    assert outbox.state(msg).state == "delivered"
    assert [r.json()["dedup_key"] for r in receiver.wait_for(2)] == [DEDUP, DEDUP]


def test_opsgenie_create_acknowledge_close_by_alias(make_outbox: Any, receiver: Receiver) -> None:
    outbox = make_outbox([{"name": "og", "type": "opsgenie", "api_key": "genie-key-123", "api_url": receiver.url,
                           "responders": [{"name": "checkout-team", "type": "team"}]}])  # fmt: skip
    accepted = Answer(202, '{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c"}')
    receiver.answer(accepted, accepted, accepted)
    for n in (notification(), notification(action="acknowledge", note="on it"), notification("resolved")):
        outbox.queue("og", n)
        outbox.worker.run_once()
    create, ack, close = receiver.received()
    assert {r.headers["authorization"] for r in (create, ack, close)} == {"GenieKey genie-key-123"}
    assert create.path == "/v2/alerts"
    assert create.json() == {
        "message": "[FIRING:1] HighErrorRate", "alias": DEDUP, "description": "HighErrorRate: 5xx ratio above 2%",
        "responders": [{"name": "checkout-team", "type": "team"}], "tags": ["HighErrorRate", "checkout", "critical"],
        "details": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
        "entity": "checkout", "source": "ricecoder-otel", "priority": "P1",
    }  # fmt: skip
    assert ack.path == f"/v2/alerts/{DEDUP}/acknowledge?identifierType=alias"
    assert ack.json() == {"user": "ricecoder", "source": "ricecoder-otel", "note": "on it"}
    assert close.path == f"/v2/alerts/{DEDUP}/close?identifierType=alias"


def test_opsgenie_eu_region_uses_the_eu_endpoint(make_outbox: Any) -> None:
    outbox = make_outbox([{"name": "og", "type": "opsgenie", "api_key": "k", "region": "eu"}])
    assert outbox.worker.channels["og"].base_url == "https://api.eu.opsgenie.com"  # type: ignore[attr-defined]


def test_alertmanager_channel_posts_api_v2_alerts(make_outbox: Any, receiver: Receiver) -> None:
    outbox = make_outbox([{"name": "am", "type": "alertmanager", "url": receiver.url, "resend_interval": "1m"}])
    receiver.answer(Answer(200), Answer(200))
    outbox.queue("am", notification())
    outbox.worker.run_once()
    outbox.queue("am", notification("resolved"))
    outbox.worker.run_once()
    firing, resolved = receiver.received()
    assert firing.path == "/api/v2/alerts"
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    times = {"startsAt": "2025-11-29T13:50:00.000Z", "endsAt": "2025-11-29T13:55:00.000Z"}
    assert firing.json() == [{"labels": labels, "annotations": {"summary": "5xx ratio above 2%"}, **times}]
    assert resolved.json()[0]["endsAt"] == "2025-11-29T13:51:00.000Z"


def test_secrets_never_reach_errors(make_outbox: Any) -> None:
    outbox = make_outbox([{"name": "hook", "type": "webhook", "url": "http://user:hunter2@127.0.0.1:9/x?token=s3cr3t"}])
    msg = outbox.queue("hook", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert row.state == "pending" and row.last_error.startswith("cannot reach the receiver")
    text = json.dumps(row.summary())
    assert "hunter2" not in text and "s3cr3t" not in text
