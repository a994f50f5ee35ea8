"""Activity captured from server spans, and the explicit API, through the real pipeline."""

from __future__ import annotations

import pytest
from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from ricecoder_otel.analytics import AnalyticsEngine, reports
from ricecoder_otel.analytics.capability import AnalyticsCapability
from ricecoder_otel.analytics.engine import day_of
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.testing import RicecoderCapture

KEY = "capture-test-key-0123456789"
CONFIG = {
    "analytics": {
        "pseudonym_key": KEY,
        "features": {"/cart/<user_id>": "cart", "/checkout/<user_id>": "checkout"},
        "allowed_properties": ["plan"],
        "tracking_id": "shop-web",
    }
}


def capability(capture: RicecoderCapture) -> AnalyticsCapability:
    found = capture.pipeline.capability("analytics")
    assert isinstance(found, AnalyticsCapability)
    return found


def request(route: str, **attributes: str) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span(f"POST {route}", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", route)
        for key, value in attributes.items():
            span.set_attribute(key.replace("_", "."), value)


@pytest.mark.ricecoder_config(CONFIG)
def test_a_server_span_with_a_user_counts_as_use_of_its_routes_feature(ricecoder_capture: RicecoderCapture) -> None:
    request("/cart/<user_id>", user_id="alice", session_id="s-1")
    request("/checkout/<user_id>", enduser_id="bob")
    request("/products")  # no user: not activity
    request("/health", user_id="alice")  # no feature: activity only
    with trace.get_tracer("test").start_as_current_span("client", kind=SpanKind.CLIENT) as span:
        span.set_attribute("user.id", "carol")  # not a server request
    analytics = capability(ricecoder_capture)
    assert analytics.process() == 3
    assert analytics.core is not None
    pseudonym = analytics.core.pseudonymise
    data = analytics.core.snapshot()
    assert {(user, feature) for _, user, feature in data.activity} == {
        (pseudonym("alice"), "cart"),
        (pseudonym("bob"), "checkout"),
        (pseudonym("alice"), ""),
    }
    today = day_of(ricecoder_capture.clock())
    rows = {r["feature"]: r for r in reports.active_users(data, today).rows}
    assert (rows["*"]["dau"], rows["cart"]["dau"], rows["checkout"]["dau"]) == (2, 1, 1)

    actions = ricecoder_capture.events("ricecoder.analytics.action")
    assert len(actions) == 3
    cart = next(r for r in actions if r.log_record.attributes.get("ricecoder.analytics.feature") == "cart")
    attrs = dict(cart.log_record.attributes or {})
    assert attrs["user.id"] == pseudonym("alice") and attrs["session.id"] == pseudonym("s-1", "session")
    assert attrs["ricecoder.analytics.tracking_id"] == "shop-web"
    assert len(ricecoder_capture.events("session.start")) == 2  # s-1 (alice, also on /health) and bob's
    exported = repr([dict(r.log_record.attributes or {}) for r in ricecoder_capture.logs()])
    assert "alice" not in exported and "bob" not in exported and "s-1" not in exported


@pytest.mark.ricecoder_config(CONFIG)
def test_the_seed_api_tracks_identifies_aliases_and_groups(ricecoder_capture: RicecoderCapture) -> None:
    engine = AnalyticsEngine().start()
    assert engine.track_action("anon-7", "search", {"plan": "pro", "email": "x@example.com"})
    assert engine.track_action(None, "search")
    assert engine.identify("alice", {"plan": "pro"})
    assert engine.alias("anon-7", "alice")
    assert engine.group("alice", "acme")
    analytics = capability(ricecoder_capture)
    analytics.process()
    assert analytics.core is not None
    data = analytics.core.snapshot()
    alice = analytics.core.pseudonymise("alice")
    assert data.aliases == {analytics.core.pseudonymise("anon-7"): alice}
    assert data.profiles[alice].account == "acme" and data.profiles[alice].traits == {}  # no allowed traits
    [action, _anonymous] = ricecoder_capture.events("ricecoder.analytics.action")
    assert action.log_record.attributes is not None
    assert action.log_record.attributes["ricecoder.analytics.property.plan"] == "pro"
    assert "ricecoder.analytics.property.email" not in action.log_record.attributes
    assert len(ricecoder_capture.events("ricecoder.analytics.alias")) == 1
    group = ricecoder_capture.events("ricecoder.analytics.group")[0].log_record.attributes or {}
    assert group["ricecoder.analytics.account.id"] == "acme" and group["user.id"] == alice


@pytest.mark.ricecoder_config({"analytics": {**CONFIG["analytics"], "consent": "drop"}})
def test_consent_comes_from_the_baggage(ricecoder_capture: RicecoderCapture) -> None:
    request("/cart/<user_id>", user_id="no-consent")
    token = context.attach(baggage.set_baggage("consent", "ads, analytics"))
    try:
        request("/cart/<user_id>", user_id="consented")
        assert AnalyticsEngine().track_action("consented", "search")
    finally:
        context.detach(token)
    assert AnalyticsEngine().track_action("no-consent", "search")
    analytics = capability(ricecoder_capture)
    analytics.process()
    assert analytics.core is not None
    users = {user for _, user, _ in analytics.core.snapshot().activity}
    assert users == {analytics.core.pseudonymise("consented")}
    assert SELF_TELEMETRY.snapshot().dropped["analytics.consent"] == 2


@pytest.mark.ricecoder_config(CONFIG)
def test_consent_checking_switched_on_and_off_live(ricecoder_capture: RicecoderCapture) -> None:
    """The baggage is read at span start only while consent is checked (a start hook otherwise costs
    every request a call); switching ``consent`` live starts and stops reading it."""
    pipeline = ricecoder_capture.pipeline
    analytics = capability(ricecoder_capture)
    hooks = analytics._hooks
    assert analytics._consent_hook is not None and not hooks.is_on(analytics._consent_hook)
    checked = pipeline.config.model_copy(
        update={"analytics": pipeline.config.analytics.model_copy(update={"consent": "drop"})}
    )
    pipeline.apply(pipeline.config, checked)
    assert hooks.is_on(analytics._consent_hook)
    request("/cart/<user_id>", user_id="no-consent")
    token = context.attach(baggage.set_baggage("consent", "analytics"))
    try:
        request("/cart/<user_id>", user_id="consented")
    finally:
        context.detach(token)
    analytics.process()  # under the policy that was live when they were recorded
    pipeline.apply(checked, ricecoder_capture.config)
    assert not hooks.is_on(analytics._consent_hook)
    request("/cart/<user_id>", user_id="anyone")
    analytics.process()
    assert analytics.core is not None
    users = {user for _, user, _ in analytics.core.snapshot().activity}
    assert users == {analytics.core.pseudonymise("consented"), analytics.core.pseudonymise("anyone")}


@pytest.mark.ricecoder_config({"analytics": {**CONFIG["analytics"], "event_buffer_size": 3}})
def test_a_full_buffer_drops_and_counts(ricecoder_capture: RicecoderCapture) -> None:
    analytics = capability(ricecoder_capture)
    worker = analytics._thread
    assert worker is not None
    analytics._stop.set()  # the worker ends its loop: nothing drains the buffer now
    analytics._wake.set()
    worker.join(5)
    engine = AnalyticsEngine()
    assert [engine.track_action("u", "a") for _ in range(5)] == [True, True, True, False, False]
    assert SELF_TELEMETRY.snapshot().dropped["analytics.buffer"] == 2
    assert analytics.process() == 3


def test_without_a_pipeline_calls_are_dropped_and_counted() -> None:
    assert AnalyticsEngine().start().track_action("u", "a") is False
    assert SELF_TELEMETRY.snapshot().dropped["analytics.inactive"] == 1


@pytest.mark.ricecoder_config(
    {"analytics": {**CONFIG["analytics"], "user_attributes": ["http.request.header.x-user-id", "user.id"]}}
)
def test_a_configured_attribute_such_as_a_captured_header_names_the_user(ricecoder_capture: RicecoderCapture) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /cart/<user_id>", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", "/cart/<user_id>")
        span.set_attribute("http.request.header.x-user-id", ["carol"])  # instrumentations capture headers as lists
        span.set_attribute("user.id", "ignored")
    request("/checkout/<user_id>", user_id="dave")  # the next attribute in the list
    with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.request.header.x-user-id", [])  # an empty header: no user
    analytics = capability(ricecoder_capture)
    assert analytics.process() == 2
    assert analytics.core is not None
    pseudonym = analytics.core.pseudonymise
    assert {(user, feature) for _, user, feature in analytics.core.snapshot().activity} == {
        (pseudonym("carol"), "cart"),
        (pseudonym("dave"), "checkout"),
    }


@pytest.mark.ricecoder_config(CONFIG)
def test_the_end_hook_follows_the_user_attributes_and_the_consent_setting(ricecoder_capture: RicecoderCapture) -> None:
    """Without a consent check the span hooks call analytics only for server spans naming a user
    (its own first check, done once by the dispatcher); with one, for every server span, whose
    consent entry must go; changing either setting live moves the gate with it."""
    pipeline = ricecoder_capture.pipeline
    analytics = capability(ricecoder_capture)
    assert analytics.processor is not None and analytics.core is not None
    seen: list[str] = []
    end = analytics.processor.end

    def spy(span: ReadableSpan) -> None:
        seen.append(span.name)
        end(span)

    analytics.processor.end = spy  # type: ignore[method-assign]

    def apply(**changes: object) -> None:
        new = pipeline.config.model_copy(update={"analytics": pipeline.config.analytics.model_copy(update=changes)})
        pipeline.apply(pipeline.config, new)

    apply(user_attributes=["customer.id"])  # a new hook, with the spy, gated on the new key
    request("/cart/<user_id>")
    request("/cart/<user_id>", user_id="not-a-user-key-now")
    request("/checkout/<user_id>", customer_id="c1")
    assert seen == ["POST /checkout/<user_id>"]
    apply(consent="drop")  # every server span reaches the hook, which removes its consent entry
    request("/cart/<user_id>")
    assert seen == ["POST /checkout/<user_id>", "POST /cart/<user_id>"]
    assert not analytics.processor._consent
    apply(consent="not_required")
    request("/cart/<user_id>")
    assert len(seen) == 2
    analytics.process()
    users = {user for _, user, _ in analytics.core.snapshot().activity}
    assert users == {analytics.core.pseudonymise("c1")}
