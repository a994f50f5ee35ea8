"""Keep secrets out of output: mask secret values and the password part of DSNs.

This is the one masker of the project: ``config show``, validation errors, store locations,
store and exporter error messages all go through ``redact_dsn``. It works on free text (an
error message that quotes a DSN), not only on a bare DSN, and it is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import SecretBytes, SecretStr

MASK = "********"

# Keys whose value is masked inside a DSN; a name is secret-looking for these and a few more.
_SECRET_KEYS = r"password|passwd|pwd|token|secret|api[_-]?key"
_SECRET_NAME = re.compile(rf"{_SECRET_KEYS}|dsn|credential|authorization", re.I)

# ``scheme://`` then the authority: everything up to the path, query, fragment or whitespace.
_URL_AUTHORITY = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<authority>[^\s/?#]*)(?P<rest>\S*)", re.I)
# ``?password=...`` / ``&token=...`` in a URL query.
_KEY = rf"[\w.-]*?(?:{_SECRET_KEYS})[\w.-]*?"
_QUERY_SECRET = re.compile(rf"(?P<key>[?&;]{_KEY})(?P<eq>=)(?P<value>[^&#\s]*)", re.I)
# libpq conninfo ``password = 'a \' b'`` (and ``db_password=...``, ``PGPASSWORD=...`` in free text).
# A quoted value runs to its closing quote (backslash escapes it) or to the end of the text.
_KEYWORD_SECRET = re.compile(
    rf"(?<![\w.?&;-])(?P<key>{_KEY})(?P<eq>\s*=\s*)"
    # An already masked value is matched alone, so masking twice leaves trailing text be.
    r"(?P<value>'(?:[^'\\]|\\.)*(?:'|\\?$)|\*{8}(?=[^\w\s]*(?:\s|$))|(?:[^\s\\]|\\.)+)",
    re.I | re.S,
)


def is_secret_name(name: str) -> bool:
    """True when a key or variable name says it holds a secret (``*password*``, ``*token*``, ...)."""
    return bool(_SECRET_NAME.search(name))


def redact_dsn(dsn: str) -> str:
    """Mask every password in ``dsn``, keeping user, host and database so it stays useful.

    - URL userinfo of any scheme: ``postgresql://app:s3cret@db/x`` -> ``postgresql://app:********@db/x``
      (``https://user:token@proxy`` alike; a user without a password is kept).
    - Secret query parameters: ``?password=...``, ``&token=...``.
    - libpq keyword form: ``host=db password='a b' dbname=x`` -> ``host=db password=******** dbname=x``.

    The text may be a whole error message: every DSN in it is masked.
    """
    masked = _URL_AUTHORITY.sub(_mask_userinfo, dsn)
    masked = _QUERY_SECRET.sub(_mask_value, masked)
    return _KEYWORD_SECRET.sub(_mask_value, masked)


def has_secret(text: str) -> bool:
    """True when ``text`` holds something ``redact_dsn`` would mask (a password, a token...)."""
    return redact_dsn(text) != text


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, authority, rest = match["scheme"], match["authority"], match["rest"]
    user, colon, after = authority.partition(":")
    if colon and "@" not in authority and "@" in rest and not after.isdigit() and not user.startswith("["):
        # ``user:pa/ss@host``: an unencoded "/" cut the authority short. Mask up to the last "@"
        # rather than show part of the password (the host may be masked too; nothing leaks).
        return f"{scheme}{user}:{MASK}@{rest.rpartition('@')[2]}"
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return match[0]
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{user}:{MASK}@{host}{rest}"


def _mask_value(match: re.Match[str]) -> str:
    return f"{match['key']}{match['eq']}{MASK}"


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
