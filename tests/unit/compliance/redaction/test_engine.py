"""The redaction engine: detectors with validators, key rules, JSON in strings, actions, bounds."""

from __future__ import annotations

import pytest

from ricecoder_otel.compliance.redaction.engine import DROP, RedactionMatch, Redactor, Tally, build_policy
from ricecoder_otel.compliance.redaction.patterns import PatternError, check_pattern
from ricecoder_otel.compliance.redaction.validators import card_ok, iban_ok, luhn_ok, ssn_ok

DEFAULT = Redactor(build_policy())


def redact(text: str, redactor: Redactor = DEFAULT) -> tuple[str, dict[str, int]]:
    tally = Tally()
    return redactor.redact_text(text, tally), tally.counts


def test_validators() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert card_ok("4111 1111 1111 1111") and card_ok("378282246310005") and card_ok("5555-5555-5555-4444")
    assert not card_ok("1234567812345670")  # passes Luhn, no card network starts with 1
    assert iban_ok("DE89 3704 0044 0532 0130 00") and iban_ok("GB29NWBK60161331926819")
    assert not iban_ok("DE89 3704 0044 0532 0130 01") and not iban_ok("XX89370400440532013000")
    assert ssn_ok("536-22-8726")
    assert not any(ssn_ok(bad) for bad in ("000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567"))


@pytest.mark.parametrize(
    ("text", "detector"),
    [
        ("contact ana.souza@example.com.br today", "email"),
        ("Benutzer jürgen.müller@beispiel.de angemeldet", "email"),
        ("card 4111 1111 1111 1111 declined", "credit_card"),
        ("amex 3782-822463-10005", "credit_card"),
        ("ssn 536-22-8726", "ssn"),
        ("SSN: 536228726", "ssn"),
        ("iban GB29 NWBK 6016 1331 9268 19 ok", "iban"),
        ("call +44 20 7946 0958", "phone"),
        ("tel. 030 12345678", "phone"),
        ("(555) 123-4567", "phone"),
        ("1-800-555-0199", "phone"),
        ("090-1234-5678", "phone"),
        ("client 203.0.113.77 connected", "ip_address"),
        ("from 2001:db8::8a2e:370:7334: refused", "ip_address"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl", "jwt"),
        ("Authorization: Bearer 8f7d6c5b4a39281706f5e4d3", "bearer_token"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", "bearer_token"),
        ("key AKIAIOSFODNN7EXAMPLE", "api_key"),
        ("ghp_" + "a1B2" * 9, "api_key"),
        ("xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "api_key"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api_key"),
        ("AIzaSyD-1234567890abcdefghijklmnopqrstu", "api_key"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "api_key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "api_key"),
        ("password=hunter2 user=ana", "password"),
        ('{"note": "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG"}', "password"),
        ("postgres://admin:Sup3rS3cret@db:5432/app", "url_credentials"),
        ("GET /cb?state=1&access_token=abcdef123456 200", "url_credentials"),
        # Formats outside the labelled corpus: extensions, empty URL users, lower-case IBANs, dotted cards ...
        ("+1-555-123-4567x1234", "phone"),
        ("001-555-123-4567x1234", "phone"),
        ("(555)123-4567x123", "phone"),
        ("Tel.: 030/1234567", "phone"),
        ("iban fr1420041010050500013m02606", "iban"),
        ("iban de89 3704 0044 0532 0130 00", "iban"),
        ("card 4111.1111.1111.1111", "credit_card"),
        ("redis://:secretpass@cache:6379/0", "url_credentials"),
        ("PASSWORD='correct horse'", "password"),
        ("Set-Cookie: JSESSIONID=ABCDEF0123456789; Path=/", "password"),
        ("X-Api-Key: 0123456789abcdef0123456789abcdef", "password"),
    ],
)
def test_each_detector_finds_its_values(text: str, detector: str) -> None:
    out, counts = redact(text)
    assert detector in counts, (out, counts)
    assert f"[REDACTED:{detector}]" in out


@pytest.mark.parametrize(
    "text",
    [
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "2024-11-30T21:07:15.123456+00:00",
        "1732999999123456789",
        "order 4111 1111 1111 1112 (fails Luhn)",
        "version 10.0.0.1",
        "Chrome/120.0.0.1",
        "v1.2.3.4",
        "127.0.0.1:5432 and 0.0.0.0",
        "ORD-2024-000123",
        "ISBN 0-306-40615-2",
        "authors: Ana, Bo",
        "max_tokens=4096 and tokens: 512",
        "Basic authentication failed; bearer of bad news",
        "logo@2x.png",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "10:30:45 00:1a:2b:3c:4d:5e",
        "secret: false",
        "room 555-1234 ext 1234",
        "be12 test 3456 case",
        "ab12cdef34567890abcd",
        "DE00000000000000000000",
        "duration 4.532015112830366s",
        "version 10.0.19045.3693",
        "x-api-key: ",
        "The password field is required",
    ],
)
def test_near_misses_are_left_alone(text: str) -> None:
    assert redact(text) == (text, {})


def test_key_rules_are_broad_without_the_known_false_positives() -> None:
    tally = Tally()
    attributes = {
        "http.request.header.authorization": "x",
        "db.password": "x",
        "X-Api-Key": "x",
        "sessionid": "x",
        "author_id": "42",
        "authors": "a,b",
        "authority": "ca",
        "gen_ai.usage.input_tokens": 5,
        "user.authenticated": True,
        "trace_id": "4111111111111111",
    }
    out = DEFAULT.redact_attributes(attributes, tally)
    assert out == {
        "http.request.header.authorization": "[REDACTED:sensitive_key]",
        "db.password": "[REDACTED:sensitive_key]",
        "X-Api-Key": "[REDACTED:sensitive_key]",
        "sessionid": "[REDACTED:sensitive_key]",
        "author_id": "42",
        "authors": "a,b",
        "authority": "ca",
        "gen_ai.usage.input_tokens": 5,
        "user.authenticated": True,
        "trace_id": "4111111111111111",  # a safe key is never touched
    }
    assert tally.counts == {"sensitive_key": 4}


SENTRY_DEFAULT_DENYLIST = [  # sentry_sdk.scrubber.DEFAULT_DENYLIST and DEFAULT_PII_DENYLIST
    "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd", "privatekey",
    "private_key", "token", "session", "csrftoken", "sessionid", "x_csrftoken", "x_forwarded_for", "set_cookie",
    "cookie", "authorization", "x_api_key", "aiohttp_session", "connect.sid", "csrf_token", "csrf", "_csrf",
    "_csrf_token", "PHPSESSID", "_session", "symfony", "user_session", "_xsrf", "XSRF-TOKEN", "x_real_ip",
    "remote_addr", "ip_address",
]  # fmt: skip
LOGFIRE_DEFAULT_PATTERNS = [  # one key per pattern of logfire's DEFAULT_PATTERNS
    "password", "passwd", "mysql_pwd", "secret", "auth", "credential", "private_key", "private-key", "private key",
    "api_key", "api.key", "api key", "session", "cookie", "social_security", "credit-card", "logfire_token",
    "pylf_v1_abc", "csrf", "xsrf", "jwt", "ssn",
]  # fmt: skip


def test_key_rules_cover_sentrys_and_logfires_default_lists() -> None:
    keys = SENTRY_DEFAULT_DENYLIST + LOGFIRE_DEFAULT_PATTERNS
    missed = [key for key in keys if DEFAULT.redact_entry(key, "v", Tally()) != "[REDACTED:sensitive_key]"]
    assert missed == []


def test_json_inside_a_string_is_parsed_and_scrubbed_by_key_and_value() -> None:
    text = '{"user": {"email": "ana@example.com", "password": "x"}, "items": [{"card": "4111111111111111"}], "n": 2}'
    out, counts = redact(text)
    assert out == ('{"user": {"email": "[REDACTED:email]", "password": "[REDACTED:sensitive_key]"}, '
                   '"items": [{"card": "[REDACTED:credit_card]"}], "n": 2}')
    assert counts == {"email": 1, "sensitive_key": 1, "credit_card": 1}
    assert redact('{"plan": "pro"}') == ('{"plan": "pro"}', {})  # unchanged JSON keeps its exact text


def test_actions_mask_hash_drop_attribute_and_drop_record() -> None:
    redactor = Redactor(build_policy(
        actions={"email": "hash", "phone": "drop_attribute", "ssn": "drop_record"}, hash_key=b"k" * 32
    ))
    tally = Tally()
    out = redactor.redact_attributes({"a": "ANA@example.com", "b": "ana@example.com", "c": "+44 20 7946 0958",
                                      "d": "ok"}, tally)
    assert out is not None and set(out) == {"a", "b", "d"}  # the phone attribute is dropped
    assert out["a"] == out["b"] and out["a"].startswith("[HASHED:email:")  # normalised: joins across records
    assert not tally.drop_record
    other_key = Redactor(build_policy(actions={"email": "hash"}, hash_key=b"x" * 32))
    assert other_key.redact_text("ana@example.com", Tally()) != out["a"]
    tally = Tally()
    redactor.redact_attributes({"note": "ssn 536-22-8726"}, tally)
    assert tally.drop_record and tally.counts == {"ssn": 1}


def test_a_callback_chooses_the_replacement_or_defers_and_a_failing_one_fails_closed() -> None:
    seen: list[RedactionMatch] = []

    def callback(match: RedactionMatch) -> str | None:
        seen.append(match)
        if match.text.endswith("@example.com"):
            return match.text  # keep our own test domain
        if match.detector == "ip_address":
            raise RuntimeError("boom")
        return None

    redactor = Redactor(build_policy(callback=callback))
    out, _ = redact("qa@example.com and ana@corp.example.org from 203.0.113.9", redactor)
    assert out == "qa@example.com and [REDACTED:email] from [REDACTED:ip_address]"
    assert [m.detector for m in seen] == ["email", "email", "ip_address"]


def test_custom_patterns_with_a_value_group_for_phi() -> None:
    redactor = Redactor(build_policy(patterns={"mrn": r"(?i)\bMRN[:#\s]*(?P<v>\d{6,10})\b"}))
    assert redact("patient MRN: 00123456 admitted", redactor) == ("patient MRN: [REDACTED:mrn] admitted", {"mrn": 1})


def test_bytes_and_non_utf8_values_lose_nothing_but_the_secret() -> None:
    value = b"\xff\xfe binary ana@example.com \x00\x81"
    tally = Tally()
    out = DEFAULT.redact_structure(value, tally, None, 0)
    assert out == b"\xff\xfe binary [REDACTED:email] \x00\x81"
    assert DEFAULT.redact_structure("lone \udc80 surrogate ana@example.com", Tally(), None, 0) == (
        "lone \udc80 surrogate [REDACTED:email]"
    )


def test_big_integers_and_arrays_are_scanned_and_arrays_stay_homogeneous() -> None:
    tally = Tally()
    assert DEFAULT.redact_structure(4111111111111111, tally, None, 0) == "[REDACTED:credit_card]"
    assert DEFAULT.redact_structure([1, 4111111111111111], Tally(), None, 0) == ["1", "[REDACTED:credit_card]"]
    assert DEFAULT.redact_structure(200, Tally(), None, 0) == 200


def test_an_extremely_long_value_is_scanned_up_to_the_limit_and_its_tail_cut_and_marked() -> None:
    redactor = Redactor(build_policy(max_scan_chars=1000))
    value = "a" * 990 + " ana@example.com" + "b" * 5000
    out, counts = redact(value, redactor)
    assert out.endswith("...[REDACTED:oversize 5015 chars]") and "ana@" not in out and len(out) < 1100
    assert counts == {"oversize": 1}


def test_hostile_input_costs_linear_work() -> None:
    # Strings built to make backtracking regexes explode finish at once (no time limit asserted:
    # the point is that they finish; benchmarks measure speed).
    for hostile in ("a" * 50_000 + "@", "1 " * 30_000, "+1" + " 1" * 20_000, "a:" * 30_000, "eyJ" + "a" * 60_000):
        redact(hostile)


def test_patterns_that_do_not_compile_or_may_backtrack_are_rejected_with_their_position() -> None:
    with pytest.raises(PatternError) as invalid:
        check_pattern("MRN-[0-9")
    assert invalid.value.position == 4 and "at position 4" in str(invalid.value)
    with pytest.raises(PatternError) as nested:
        check_pattern(r"id=(\d+)+x")
    assert nested.value.position == 8 and "position 8" in str(nested.value)
    for fine in (r"\d{3}-\d{2}", r"(?:\d[ -]?){12,18}\d", r"(a|b)+", r"(?:[\w-]{1,63}\.){1,8}"):
        check_pattern(fine)
    with pytest.raises(PatternError):
        build_policy(patterns={"bad": "(a*)*$"})
    with pytest.raises(ValueError, match="unknown detector"):
        build_policy(actions={"emial": "hash"})


def test_drop_marker_for_an_attribute_key() -> None:
    redactor = Redactor(build_policy(actions={"sensitive_key": "drop_attribute"}))
    assert redactor.redact_entry("password", "x", Tally()) is DROP
