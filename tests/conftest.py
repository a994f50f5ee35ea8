"""Process-wide state every test starts from: nothing reported yet, no self-telemetry counts, and
a data directory of its own.

``report_once`` remembers what it logged for the life of the process, and the
self-telemetry tallies are global too; without this reset a test's outcome would
depend on which tests ran before it. The per-user defaults (the embedded store, the audit
journal) live under ``$XDG_DATA_HOME``: each test gets its own, so no test writes to the
home directory or reads what another test left there. ``build_pipeline`` fills the OTEL_*
defaults into ``os.environ`` (as the distro does in a real process): the environment and that
record are put back after each test, so no test, and no subprocess it starts, inherits them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ricecoder_otel.kernel import defaults
from ricecoder_otel.kernel.guard import reset_reports
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from tests.harness.postgres import PostgresServer, start_postgres, stop_postgres


@pytest.fixture(autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture(autouse=True)
def _restored_environment() -> Iterator[None]:
    saved, applied = dict(os.environ), dict(defaults._APPLIED_TO_PROCESS)
    yield
    for key in set(os.environ) - set(saved):
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    defaults._APPLIED_TO_PROCESS.clear()
    defaults._APPLIED_TO_PROCESS.update(applied)


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
