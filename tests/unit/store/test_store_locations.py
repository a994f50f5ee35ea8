"""Where the store lives: default locations, URLs, keyword DSNs, the process-wide default."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricecoder_otel.config.secrets import MASK
from ricecoder_otel.store import (
    StoreLocationError,
    default_store_location,
    get_default_store,
    open_store,
    parse_location,
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
    assert postgres.display_location == f"postgresql://user:{MASK}@127.0.0.1:5432/telemetry"


@pytest.mark.parametrize(
    "dsn",
    [
        "host=localhost port=5432 dbname=x user=u password=secret",
        "dbname=telemetry",
        "  host = db.internal  password = 'se cret\\'s'  sslmode=require ",
        "service=telemetry",
    ],
)
def test_a_keyword_dsn_is_postgres_not_a_file(dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(dsn)
    assert isinstance(store, PostgresStore)
    assert store.location == dsn.strip()
    assert "secret" not in store.display_location and "se cret" not in store.display_location
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "location",
    [
        "host=localhost port=5432 dbname=x user=u pasword=hunter2",  # a mistyped keyword
        "host=localhost password='hunter2",  # an unterminated quote
        "host=localhost password=hun ter2",  # an unquoted space
        "hots=db password=hunter2",  # not libpq at all, but it carries a password
        "mysql://u:hunter2@db/x?pass=hunter2",  # a scheme we do not speak
        "postgressql://u:hunter2@db/x",  # a mistyped scheme
        "/data/password=hunter2/telemetry.db",
        "sqlite:////data/token=hunter2.db",
    ],
)
def test_a_location_with_a_secret_that_is_not_understood_is_refused_masked(
    location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreLocationError) as error:
        open_store(location)
    message = str(error.value)
    assert "hunter2" not in message and "ter2" not in message
    assert "location" in message
    assert list(tmp_path.iterdir()) == []


def test_an_empty_location_is_a_clear_error() -> None:
    with pytest.raises(StoreLocationError, match="the store location is empty"):
        open_store("  ")


@pytest.mark.parametrize(
    ("location", "backend", "target"),
    [
        ("/var/lib/telemetry.db", "sqlite", "/var/lib/telemetry.db"),
        ("relative dir/telemetry.db", "sqlite", "relative dir/telemetry.db"),
        ("sqlite:////abs/t.db", "sqlite", "/abs/t.db"),
        ("postgres://u@db/x", "postgres", "postgres://u@db/x"),
        ("hostname.db", "sqlite", "hostname.db"),  # not "host=": a file
    ],
)
def test_parse_location(location: str, backend: str, target: str) -> None:
    parsed = parse_location(location)
    assert (parsed.backend, parsed.target) == (backend, target)


def test_a_new_sqlite_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "telemetry.db"
    with open_store(path) as store:
        store.write_logs([])
        assert store.counts().logs == 0
        files = [p for p in path.parent.iterdir()]
        assert {p.name for p in files} >= {"telemetry.db", "telemetry.db-wal"}
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    for directory in (tmp_path / "new", path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with open_store(tmp_path / "telemetry.db") as store:
        store.counts()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "telemetry.db").stat().st_mode) == 0o600


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
