"""Retention runs on both backends (the store contract's fixtures: SQLite and a real PostgreSQL)."""

from tests.integration.store.conftest import make_store, store

__all__ = ["make_store", "store"]
