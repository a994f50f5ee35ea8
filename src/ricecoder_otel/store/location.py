"""Tell what a store location names: a SQLite file or a PostgreSQL database.

A location is a file path, ``sqlite:///path``, a ``postgresql://`` / ``postgres://`` URL, or a
libpq keyword DSN (``host=db port=5432 dbname=x user=u password=...``). Anything else that
looks like a connection string is refused with ``StoreLocationError`` rather than taken for a
file name: a mistyped DSN must never become a file whose name holds its password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ricecoder_otel.config.secrets import has_secret, redact_dsn
from ricecoder_otel.store.errors import StoreLocationError

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite:///"
_ANY_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)

# The connection keywords libpq accepts (PostgreSQL 17), so a conninfo string is recognised by
# its keys exactly as libpq would parse it.
LIBPQ_KEYWORDS = frozenset(
    {
        "application_name", "channel_binding", "client_encoding", "connect_timeout", "dbname",
        "fallback_application_name", "gssdelegation", "gssencmode", "gsslib", "host", "hostaddr",
        "keepalives", "keepalives_count", "keepalives_idle", "keepalives_interval", "krbsrvname",
        "load_balance_hosts", "options", "passfile", "password", "port", "replication",
        "require_auth", "requirepeer", "requiressl", "service", "ssl_max_protocol_version",
        "ssl_min_protocol_version", "sslcert", "sslcertmode", "sslcompression", "sslcrl",
        "sslcrldir", "sslkey", "sslnegotiation", "sslpassword", "sslmode", "sslrootcert", "sslsni",
        "target_session_attrs", "tcp_user_timeout", "user",
    }
)  # fmt: skip
_FIRST_KEY = re.compile(r"^\s*([A-Za-z_]+)\s*=")


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A parsed location: ``target`` is the file path or the DSN handed to the driver."""

    backend: Literal["sqlite", "postgres"]
    target: str


def parse_location(text: str) -> StoreLocation:
    """Classify ``text``; raises ``StoreLocationError`` (secrets masked) when it is neither."""
    stripped = text.strip()
    if not stripped:
        raise StoreLocationError("the store location is empty: give a file path or a postgresql:// DSN")
    if stripped.startswith(_POSTGRES_SCHEMES):
        return StoreLocation("postgres", stripped)
    if stripped.startswith(_SQLITE_SCHEME):
        # sqlite:///abs/path and SQLAlchemy's sqlite:////abs/path both mean /abs/path.
        return StoreLocation("sqlite", _file_path("/" + stripped[len(_SQLITE_SCHEME) :].lstrip("/"), text))
    if _ANY_SCHEME.match(stripped):
        scheme = stripped.split("://", 1)[0]
        raise StoreLocationError(
            f"unsupported store location scheme {scheme}:// (the location is not shown: it may hold a "
            "password): use a file path, sqlite:///path, a postgresql:// URL or a keyword DSN (host=... dbname=...)"
        )
    first = _FIRST_KEY.match(stripped)
    if first is not None and first[1].lower() in LIBPQ_KEYWORDS:
        try:
            parse_conninfo(stripped)
        except ValueError as exc:
            # Not echoed, even masked: a typo'd key ("pasword=") hides its value from the masker.
            raise StoreLocationError(
                f"the store location is not a valid PostgreSQL keyword DSN: {exc} "
                "(the location is not shown: it may hold a password)"
            ) from None
        return StoreLocation("postgres", stripped)
    return StoreLocation("sqlite", _file_path(text, text))


def _file_path(path: str, original: str) -> str:
    if has_secret(path):
        raise StoreLocationError(
            f"store location {redact_dsn(original)} looks like a connection string with a secret, "
            "not a file name; it was not created. Use postgresql://... or a keyword DSN with known "
            "keys (host, port, dbname, user, password, ...)"
        )
    return path


def parse_conninfo(text: str) -> dict[str, str]:
    """Parse a libpq keyword DSN as libpq does.

    ``ValueError`` says which pair is wrong by position, never by its text: a password with an
    unquoted space turns its second half into a bogus "key".
    """
    pairs: dict[str, str] = {}
    i, n = 0, len(text)
    number = 0
    while True:
        number += 1
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            break
        start = i
        while i < n and text[i] != "=" and not text[i].isspace():
            i += 1
        key = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i == n or text[i] != "=":
            raise ValueError(f"pair {number} has no '=' (quote values that hold spaces: password='a b')")
        i += 1
        if key.lower() not in LIBPQ_KEYWORDS or key != key.lower():
            raise ValueError(
                f"pair {number} has an unknown keyword (libpq knows host, port, dbname, user, password, ...)"
            )
        while i < n and text[i].isspace():
            i += 1
        value: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i == n:
                    raise ValueError(f"the quoted value of pair {number} is not closed")
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    value.append(text[i])
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
        pairs[key] = "".join(value)
    return pairs
