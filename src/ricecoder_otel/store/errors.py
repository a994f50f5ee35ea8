"""Store failures, each with a message that names the store and the way out.

Messages never contain a password: locations are passed through ``mask_location``.
"""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)(?P<tail>@)", re.I)
_KEYWORD_PASSWORD = re.compile(r"(?P<head>(?:^|\s)password\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&\s]*)", re.I)


def mask_location(location: str) -> str:
    """Return ``location`` with any password replaced by ``***`` (URL, query or keyword form)."""
    masked = _URL_PASSWORD.sub(r"\g<head>***\g<tail>", location)
    masked = _QUERY_PASSWORD.sub(r"\g<head>***", masked)
    return _KEYWORD_PASSWORD.sub(r"\g<head>***", masked)


class StoreError(Exception):
    """A store operation failed; the store itself and the rows already in it are unharmed."""


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
