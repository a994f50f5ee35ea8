"""Keep secrets out of output: mask secret values and the password part of DSNs.

Used by ``config show``, error messages and anything else that prints configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretBytes, SecretStr

MASK = "********"

# Keys whose value is masked inside a DSN; a name is secret-looking for these and a few more.
_SECRET_KEYS = r"password|passwd|pwd|token|secret|api[_-]?key"
_SECRET_NAME = re.compile(rf"{_SECRET_KEYS}|dsn|credential|authorization", re.I)
_KV_SECRET = re.compile(rf"\b({_SECRET_KEYS})(\s*=\s*)('[^']*'|\S+)", re.I)
_QUERY_SECRET = re.compile(rf"(?:^|(?<=&))({_SECRET_KEYS})(=)([^&]*)", re.I)


def is_secret_name(name: str) -> bool:
    """True when a key or variable name says it holds a secret (``*password*``, ``*token*``, ...)."""
    return bool(_SECRET_NAME.search(name))


def redact_dsn(dsn: str) -> str:
    """Mask the password of a URL or libpq key=value DSN, keeping user, host and database.

    ``postgresql://app:s3cret@db:5432/x`` -> ``postgresql://app:********@db:5432/x``.
    Secret query parameters (``?password=...``) and key=value pairs are masked too.
    """
    if "://" not in dsn:
        return _KV_SECRET.sub(_mask_value, dsn)
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return MASK
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = _QUERY_SECRET.sub(_mask_value, parts.query)
    if netloc == parts.netloc and query == parts.query:
        return dsn
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _mask_value(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{MASK}"


def mask_secrets(obj: Any, *, key: str = "") -> Any:
    """Return a copy of ``obj`` (mappings, lists, scalars) that is safe to print.

    ``SecretStr`` values and values under secret-looking keys become ``MASK``; other strings
    that contain a DSN keep everything except the password.
    """
    if isinstance(obj, SecretStr | SecretBytes):
        return MASK
    if isinstance(obj, Mapping):
        return {k: mask_secrets(v, key=str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [mask_secrets(v, key=key) for v in obj]
    if obj is None:
        return None
    if key and is_secret_name(key):
        return MASK
    if isinstance(obj, str):
        return redact_dsn(obj)
    return obj
