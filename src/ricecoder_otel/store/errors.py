"""Store failures, each with a message that names the store and the way out.

Messages never contain a password: locations and driver messages are passed through
``ricecoder_otel.config.secrets.redact_dsn``, the project's one masker.
"""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed; the store itself and the rows already in it are unharmed."""


class StoreLocationError(StoreError):
    """The location is neither a file path nor a DSN this store understands (message masked)."""


class StoreUnavailableError(StoreError):
    """The store cannot be opened or reached (missing, unreadable, server down)."""


class StoreReadOnlyError(StoreError):
    """The store or its directory cannot be written."""


class StoreFullError(StoreError):
    """The disk, or the store's size limit, has no room for new rows."""


class StoreCorruptError(StoreError):
    """The file is not a valid database of this kind."""


class StoreBusyError(StoreError):
    """Another writer held the store longer than the busy timeout."""


class SchemaTooNewError(StoreError):
    """The store was migrated by a newer ricecoder-otel; this version will not touch it."""


class MissingDriverError(StoreError):
    """The backend's driver is not installed."""
