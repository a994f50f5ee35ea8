"""The per-value outcome cache: a repeated value is redacted and counted exactly as the first time."""

from __future__ import annotations

from ricecoder_otel.compliance.redaction.engine import DROP, RedactionMatch, Redactor, Tally, build_policy


def test_a_repeated_dirty_value_is_redacted_and_counted_every_time() -> None:
    redactor = Redactor(build_policy())
    value = "from 203.0.113.9 mail ana@example.com"
    outputs, counts = [], []
    for _ in range(3):
        tally = Tally()
        outputs.append(redactor.redact_text(value, tally))
        counts.append(tally.counts)
    assert outputs == ["from [REDACTED:ip_address] mail [REDACTED:email]"] * 3
    assert counts == [{"ip_address": 1, "email": 1}] * 3


def test_a_repeated_value_keeps_its_drop_decisions() -> None:
    redactor = Redactor(build_policy(actions={"email": "drop_attribute", "ip_address": "drop_record"}))
    for _ in range(2):
        tally = Tally()
        assert redactor.redact_attributes({"to": "ana@example.com", "plan": "pro"}, tally) == {"plan": "pro"}
        assert not tally.drop_record
        tally = Tally()
        redactor.redact_attributes({"peer": "203.0.113.9"}, tally)
        assert tally.drop_record


def test_a_clean_value_comes_back_as_the_same_object() -> None:
    redactor = Redactor(build_policy())
    value = "".join(["GET /api/orders/", "{id}"])  # built at run time: not an interned constant
    for _ in range(2):
        tally = Tally()
        assert redactor.redact_text(value, tally) is value
        assert redactor.redact_entry("http.target", value, tally) is value
        assert not tally.counts


def test_a_callback_sees_every_occurrence_of_a_repeated_value() -> None:
    seen: list[RedactionMatch] = []

    def callback(match: RedactionMatch) -> str | None:
        seen.append(match)
        return None

    redactor = Redactor(build_policy(callback=callback))
    for _ in range(3):
        assert redactor.redact_text("mail ana@example.com", Tally()) == "mail [REDACTED:email]"
    assert [match.detector for match in seen] == ["email"] * 3


def test_drop_is_returned_for_a_cached_sensitive_attribute_value() -> None:
    redactor = Redactor(build_policy(actions={"credit_card": "drop_attribute"}))
    for _ in range(2):
        assert redactor.redact_entry("note", "card 4111 1111 1111 1111", Tally()) is DROP


def test_the_cache_holds_no_personal_data() -> None:
    """Redacted values are remembered under a keyed digest; only clean values are kept as text."""
    redactor = Redactor(build_policy())
    secrets = ["ana@example.com", "203.0.113.9", "4111 1111 1111 1111"]
    for secret in secrets:
        redactor.redact_text(f"seen {secret} here", Tally())
    redactor.redact_text("GET /health", Tally())
    held = repr(vars(redactor))
    assert "GET /health" in held
    assert not any(secret in held for secret in secrets)
