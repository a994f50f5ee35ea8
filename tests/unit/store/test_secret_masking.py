"""One masker for every secret-bearing location: ``redact_dsn`` (hypothesis is not installed,
so the property runs over a generated grid of passwords x DSN forms x surrounding text)."""

from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest

import ricecoder_otel.store
import ricecoder_otel.store.errors
from ricecoder_otel.config.secrets import MASK, has_secret, redact_dsn
from ricecoder_otel.store.location import parse_conninfo

PASSWORDS = ["hunter22", "p@ss:w0rd", "a b'c\\d", "sl/ash?q#f&x=1", "ünï€ødé", "%41%42%43", "pass word with spaces"]


def _libpq_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _forms(password: str) -> list[str]:
    encoded = quote(password, safe="")
    return [
        f"postgresql://app:{encoded}@db.internal:5432/telemetry",
        f"postgres://app:{encoded}@db.internal/telemetry?sslmode=require",
        f"https://app:{encoded}@db.internal/telemetry",  # userinfo in any URL
        f"amqp://:{encoded}@db.internal/telemetry",
        f"postgresql://app@db.internal/telemetry?sslmode=require&password={encoded}",
        f"host=db.internal port=5432 dbname=telemetry user=app password={_libpq_quote(password)}",
        f"password = {_libpq_quote(password)} host=db.internal dbname=telemetry",
    ]


CASES = [
    (password, form, wrap)
    for password in PASSWORDS
    for form, wrap in itertools.product(_forms(password), ["{}", 'cannot reach "{}": timeout', "dsn={} (retrying)"])
]


@pytest.mark.parametrize(("password", "form", "wrap"), CASES)
def test_no_password_survives_in_any_form_and_the_rest_does(password: str, form: str, wrap: str) -> None:
    text = wrap.format(form)
    masked = redact_dsn(text)
    for secret in {password, quote(password, safe=""), _libpq_quote(password)}:
        assert secret not in masked
    assert MASK in masked
    assert "db.internal" in masked and "telemetry" in masked
    assert redact_dsn(masked) == masked  # idempotent: masking twice changes nothing
    assert has_secret(text) and not has_secret(masked)


@pytest.mark.parametrize(
    "text",
    [
        "/var/lib/ricecoder/telemetry.db",
        "postgresql://app@db/tel",
        "https://h:8080/a@b",
        "https://[::1]:80/x@y",
        "host=db dbname=tel user=app",
        "the payment service is slow",
    ],
)
def test_text_without_a_secret_is_left_alone(text: str) -> None:
    assert redact_dsn(text) == text
    assert not has_secret(text)


def test_an_unencoded_slash_in_a_url_password_masks_through_to_the_host() -> None:
    assert redact_dsn("postgresql://u:ab/cd@host/db") == f"postgresql://u:{MASK}@host/db"


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_keyword_parser_reads_what_libpq_reads(password: str) -> None:
    dsn = f"host=db.internal  password = {_libpq_quote(password)}\tdbname=telemetry"
    assert parse_conninfo(dsn) == {"host": "db.internal", "password": password, "dbname": "telemetry"}


def test_there_is_one_masker() -> None:
    assert not hasattr(ricecoder_otel.store, "mask_location")
    assert not hasattr(ricecoder_otel.store.errors, "mask_location")
