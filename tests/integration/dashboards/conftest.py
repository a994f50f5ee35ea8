"""Dashboards against every store backend: the store contract's fixtures (a SQLite file, a real PostgreSQL)."""

from tests.integration.store.conftest import make_store

__all__ = ["make_store"]
