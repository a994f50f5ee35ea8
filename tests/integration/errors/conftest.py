"""The error-store contract runs on both backends (the store contract's fixtures)."""

from tests.integration.store.conftest import make_store, store

__all__ = ["make_store", "store"]
