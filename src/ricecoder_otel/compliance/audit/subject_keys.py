"""Per-subject keys for crypto-shredding: erase a subject by destroying their key.

An audit record about a data subject (``audit(..., subject=ID, personal={...})``) carries, instead
of the id, a pseudonym keyed with that subject's own key and a random ``subject_key`` id, and
its personal fields sealed with AES-256-GCM under the same key. The record is hashed and chained
as written, so it stays in the journal (kept for ``audit_log_retention``, Art. 17(3)(b)) and the
chain keeps verifying after erasure; once the key is destroyed, neither the pseudonym nor the
sealed fields can be linked to the subject or read, here or in any backend the records were
exported to.

Keys live beside the journal in ``subject-keys/``, one file per subject named by the subject's
reference (a salted SHA-256 of the id, as the request log keeps it), mode 0600. Shredding
overwrites the file, syncs, unlinks it and syncs the directory. Sealing needs ``cryptography``
(the ``audit-crypto`` extra); the pseudonym alone does not.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit.engine import AuditError, plain

DIRECTORY = "subject-keys"
_MISSING = "sealing personal audit fields needs the 'cryptography' package: pip install 'ricecoder-otel[audit-crypto]'"


def subject_ref(subject_id: str) -> str:
    """The reference requests and key files use: reveals nothing to someone without the id."""
    return hashlib.sha256(b"ricecoder-otel/gdpr-subject\x00" + subject_id.encode()).hexdigest()


@dataclass(frozen=True)
class SubjectKey:
    key_id: str
    """Random: names the key in records without linking them to the subject."""
    secret: bytes

    def pseudonym(self, subject_id: str) -> str:
        return "sk:" + hmac.new(self.secret, subject_id.encode(), hashlib.sha256).hexdigest()[:32]

    def seal(self, personal: Mapping[str, Any]) -> str:
        """``personal`` as canonical JSON, AES-256-GCM under this key (the key id is authenticated too)."""
        aead = _aesgcm(self.secret)
        nonce = secrets.token_bytes(12)
        data = json.dumps(plain(dict(personal)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        sealed = aead.encrypt(nonce, data.encode(), self.key_id.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """The personal fields of a sealed value (raises AuditError when it was not sealed with this key)."""
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(sealed, validate=True)
            data = _aesgcm(self.secret).decrypt(raw[:12], raw[12:], self.key_id.encode())
        except (InvalidTag, ValueError) as error:
            raise AuditError(f"sealed audit fields do not open with key {self.key_id}") from error
        opened: dict[str, Any] = json.loads(data)
        return opened


def _aesgcm(secret: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise AuditError(_MISSING) from None
    return AESGCM(secret)


class SubjectKeys:
    """The key files of one journal's subjects."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, ref: str) -> Path:
        if len(ref) != 64 or any(c not in "0123456789abcdef" for c in ref):
            raise AuditError("a subject reference is 64 lowercase hex characters")
        return self.directory / f"{ref}.key"

    def get(self, ref: str) -> SubjectKey | None:
        """The subject's key, or None when they never had one or it was shredded."""
        path = self._path(ref)
        try:
            data = json.loads(path.read_text())
            return SubjectKey(str(data["key_id"]), bytes.fromhex(data["key"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"{path}: not a subject key (the file is corrupt)") from None

    def get_or_create(self, ref: str) -> SubjectKey:
        """The subject's key, created (durably, mode 0600) on first use; safe across threads and
        processes: the key is written whole to a temporary file and linked into place, and whoever
        links first wins."""
        found = self.get(ref)
        if found is not None:
            return found
        path = self._path(ref)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.directory / f".{ref}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps({"key_id": secrets.token_hex(8), "key": secrets.token_bytes(32).hex()}))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another caller linked theirs first: use it
                os.link(temporary, path)
        finally:
            temporary.unlink()
        _sync_directory(self.directory)
        key = self.get(ref)
        if key is None:
            raise AuditError(f"{path} vanished while it was created (shredded meanwhile?)")
        return key

    def shred(self, ref: str) -> bool:
        """Destroy the subject's key: overwrite, sync, unlink, sync the directory. False if there was none."""
        path = self._path(ref)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return False
        try:
            size = os.fstat(fd).st_size
            os.pwrite(fd, b"\0" * size, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        _sync_directory(self.directory)
        return True


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
