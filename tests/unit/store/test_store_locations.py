"""Where the store lives: default locations, URLs, the process-wide default, masking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.store import (
    default_store_location,
    get_default_store,
    mask_location,
    open_store,
    set_default_store,
)
from ricecoder_otel.store.postgres import PostgresStore
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.store.sqlite import SQLiteStore


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("RICECODER_STORE_PATH", "RICECODER_STORE_DSN", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    yield
    set_default_store(None)


def test_default_location_prefers_path_then_dsn_then_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_store_location() == str(tmp_path / ".local/share/ricecoder-otel/telemetry.db")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_location() == str(tmp_path / "data/ricecoder-otel/telemetry.db")
    monkeypatch.setenv("RICECODER_STORE_DSN", "postgresql://u@db/telemetry")
    assert default_store_location() == "postgresql://u@db/telemetry"
    monkeypatch.setenv("RICECODER_STORE_PATH", str(tmp_path / "explicit.db"))
    assert default_store_location() == str(tmp_path / "explicit.db")


def test_open_store_picks_the_backend_from_the_location(tmp_path: Path) -> None:
    plain = open_store(tmp_path / "a.db")
    url = open_store(f"sqlite:///{tmp_path}/b.db")
    postgres = open_store("postgresql://user:pw@127.0.0.1:5432/telemetry")

    assert isinstance(plain, SQLiteStore) and plain.path == tmp_path / "a.db"
    assert isinstance(url, SQLiteStore) and url.path == tmp_path / "b.db"
    assert isinstance(postgres, PostgresStore)
    assert postgres.display_location == "postgresql://user:***@127.0.0.1:5432/telemetry"


@pytest.mark.parametrize(
    ("location", "masked"),
    [
        ("postgresql://app:s3cr%40t@db:5432/x", "postgresql://app:***@db:5432/x"),
        (
            "postgresql://app@db/x?password=hunter2&sslmode=require",
            "postgresql://app@db/x?password=***&sslmode=require",
        ),
        ("host=db user=app password='a b c' dbname=x", "host=db user=app password=*** dbname=x"),
        ("/var/lib/telemetry.db", "/var/lib/telemetry.db"),
    ],
)
def test_mask_location_hides_passwords(location: str, masked: str) -> None:
    assert mask_location(location) == masked


def test_the_default_store_is_opened_lazily_from_the_configured_location(tmp_path: Path) -> None:
    set_default_store(tmp_path / "configured.db", retention=RetentionPolicy(max_age_ns=1, max_bytes=None))
    assert not (tmp_path / "configured.db").exists()
    store = get_default_store()
    assert get_default_store() is store
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "configured.db"
    assert store.retention.max_age_ns == 1

    given = open_store(tmp_path / "given.db")
    set_default_store(given)
    assert get_default_store() is given


def test_the_default_store_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RICECODER_STORE_PATH", str(tmp_path / "env.db"))
    set_default_store(None)
    store = get_default_store()
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "env.db"
