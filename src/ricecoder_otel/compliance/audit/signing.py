"""Ed25519 signatures on checkpoints and the head, so a third party holding only the public key
can check the chain's signed state (the HMAC needs the secret key to check).

Keys are PEM (PKCS#8 private, SubjectPublicKeyInfo public) or raw hex (32-byte seed, 32-byte
public key). Needs the ``cryptography`` package (``pip install 'ricecoder-otel[audit-crypto]'``),
imported only when a key is used. ``key_id`` names a key by its public half, never reveals it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ricecoder_otel.compliance.audit.engine import AuditError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_MISSING = "Ed25519 audit signatures need the 'cryptography' package: pip install 'ricecoder-otel[audit-crypto]'"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(public: bytes) -> str:
    return "ed25519:" + hashlib.sha256(public).hexdigest()[:16]


def _load(text: str | bytes, private: bool) -> Any:
    """An Ed25519 key from PEM or hex; raises ValueError (or AuditError for another key type)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise AuditError(_MISSING) from None
    data = (text.encode() if isinstance(text, str) else text).strip()
    pem = b"-----BEGIN" in data
    key: object
    if private:
        expected: type = ed25519.Ed25519PrivateKey
        key = serialization.load_pem_private_key(data, password=None) if pem else (
            ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data.decode())))  # fmt: skip
    else:
        expected = ed25519.Ed25519PublicKey
        key = serialization.load_pem_public_key(data) if pem else (
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(data.decode())))  # fmt: skip
    if not isinstance(key, expected):
        raise AuditError(f"the key is {type(key).__name__}, not Ed25519")
    return key


class PublicKey:
    """Checks signatures; built from a PEM or hex public key."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self.raw = _raw_public(key)
        self.key_id = _key_id(self.raw)

    @classmethod
    def load(cls, text: str | bytes) -> PublicKey:
        try:
            return cls(_load(text, private=False))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise AuditError("not an Ed25519 public key (expected PEM or 64 hex characters)") from None

    def verify(self, message: bytes, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(bytes.fromhex(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


class SigningKey:
    """Signs checkpoints and the head; built from a PEM (PKCS#8) or hex seed private key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = PublicKey(key.public_key())
        self.key_id = self.public.key_id

    @classmethod
    def load(cls, text: str | bytes) -> SigningKey:
        try:
            return cls(_load(text, private=True))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise AuditError(
                "compliance.audit.signing_key is not an Ed25519 private key (expected unencrypted PKCS#8 PEM "
                "or 64 hex characters)"
            ) from None

    @classmethod
    def generate(cls) -> SigningKey:
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        except ImportError:
            raise AuditError(_MISSING) from None
        return cls(Ed25519PrivateKey.generate())

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).hex()

    def private_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
