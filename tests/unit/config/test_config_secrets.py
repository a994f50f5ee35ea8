from pydantic import SecretStr

from ricecoder_otel.config.secrets import MASK, is_secret_name, mask_secrets, redact_dsn


def test_redact_dsn_masks_url_password_only() -> None:
    assert redact_dsn("postgresql://app:s3cret@db:5432/tel") == f"postgresql://app:{MASK}@db:5432/tel"


def test_redact_dsn_masks_secret_query_parameters() -> None:
    out = redact_dsn("postgresql://db/tel?sslmode=require&password=s3cret")
    assert out == f"postgresql://db/tel?sslmode=require&password={MASK}"


def test_redact_dsn_masks_libpq_keyword_form() -> None:
    assert redact_dsn("host=db user=app password=s3cret dbname=tel") == f"host=db user=app password={MASK} dbname=tel"


def test_redact_dsn_leaves_paths_and_passwordless_urls_untouched() -> None:
    for text in ("/var/lib/ricecoder/telemetry.db", "postgresql://app@db/tel", "http://x?"):
        assert redact_dsn(text) == text


def test_mask_secrets_by_type_name_and_dsn() -> None:
    data = {
        "sentry_dsn": SecretStr("https://key@sentry.example/1"),
        "api_token": "tok-123",
        "db_password": 1234,
        "location": "postgresql://u:pw@h/db",
        "nested": [{"client_secret": "x", "name": "ok"}],
        "unset_password": None,
        "threshold": 3,
    }
    masked = mask_secrets(data)
    assert masked == {
        "sentry_dsn": MASK,
        "api_token": MASK,
        "db_password": MASK,
        "location": f"postgresql://u:{MASK}@h/db",
        "nested": [{"client_secret": MASK, "name": "ok"}],
        "unset_password": None,
        "threshold": 3,
    }
    assert data["api_token"] == "tok-123"  # the input is not modified


def test_secret_names() -> None:
    assert all(is_secret_name(n) for n in ("password", "DB_PASSWORD", "bearer_token", "sentry_dsn", "client_secret"))
    assert not any(is_secret_name(n) for n in ("threshold", "location", "name"))
