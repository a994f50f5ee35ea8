"""The store contract runs against every backend: a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ricecoder_otel.store import Store, open_store
from tests.harness.postgres import PostgresServer
from tests.harness.store_rows import NO_RETENTION

StoreFactory = Callable[..., Store]

_database_numbers = itertools.count(1)



@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Returns ``make(retention=..., clock=...)``; every store made shares one fresh location."""
    if request.param == "sqlite":
        location = str(tmp_path / "telemetry.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        location = server.create_database(f"contract_{next(_database_numbers)}")
    made: list[Store] = []

    def make(**kwargs: object) -> Store:
        kwargs.setdefault("retention", NO_RETENTION)
        store = open_store(location, **kwargs)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()
