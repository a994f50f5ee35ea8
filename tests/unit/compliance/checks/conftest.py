"""The PII check reads stored telemetry on both backends (SQLite and a real PostgreSQL)."""

from tests.integration.store.conftest import make_store, store

__all__ = ["make_store", "store"]
