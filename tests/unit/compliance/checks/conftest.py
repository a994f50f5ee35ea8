"""The PII check reads stored telemetry on both backends (SQLite and a real PostgreSQL)."""

from tests.integration.store.conftest import make_store, postgres_server, store

__all__ = ["make_store", "postgres_server", "store"]
