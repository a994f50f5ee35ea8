"""Process-wide state every test starts from: nothing reported yet, no self-telemetry counts, and
a data directory of its own.

``report_once`` remembers what it logged for the life of the process, and the
self-telemetry tallies are global too; without this reset a test's outcome would
depend on which tests ran before it. The per-user defaults (the embedded store, the audit
journal) live under ``$XDG_DATA_HOME``: each test gets its own, so no test writes to the
home directory or reads what another test left there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ricecoder_otel.kernel.guard import reset_reports
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from tests.harness.postgres import PostgresServer, start_postgres, stop_postgres


@pytest.fixture(autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    reset_reports()
    SELF_TELEMETRY.reset()
    yield
    reset_reports()
    SELF_TELEMETRY.reset()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the whole run, started on first use; tests create their own databases."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)
