"""The audit chain, pure: canonical records, their hashes, Merkle trees and signed checkpoints.

A record is one line of JSON. Its hash is SHA-256 over its canonical encoding, which is the
line without the trailing ``"hash"`` member: ``{"seq":N,"prev":"<64 hex>",`` followed by the
other members in sorted key order, compact separators, UTF-8. Because ``seq`` and ``prev``
always open the line and ``hash`` always closes it, a verifier checks a line with slicing and
one SHA-256, without parsing the JSON (see :mod:`.verify`).

Each record names the previous record's hash, so an edit, deletion, insertion or reordering
breaks the chain. A checkpoint covers the records since the previous one: the last sequence
number and hash, a Merkle root over the records' hashes (RFC 6962 shape, so an auditor can
check one record with a logarithmic inclusion proof), and an HMAC-SHA-256 over all of it
including the previous checkpoint's MAC, so checkpoints form a signed chain of their own.

No OpenTelemetry imports; time comes from an injected clock.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import hmac
import importlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from itertools import repeat
from operator import methodcaller
from typing import Any, NamedTuple, Protocol

Clock = Callable[[], float]

GENESIS = "0" * 64
"""The ``prev`` of the first record."""

HASH_MARK = b',"hash":"'
SUFFIX_LEN = len(HASH_MARK) + 64 + len(b'"}\n')
"""Bytes after the canonical body's last member: ``,"hash":"<64 hex>"}`` and the newline."""

FIELDS = ("ts", "actor", "action", "resource", "outcome", "trace_id", "span_id", "details")
"""Members of a record besides ``seq``, ``prev`` and ``hash``."""

_PSEUDONYM_CONTEXT = b"ricecoder.audit.actor"
_KEY_ID_CONTEXT = b"ricecoder.audit.key-id"


class AuditError(Exception):
    """The audit trail cannot record or cannot be read; the message says where and why."""


_last_second: tuple[float, str] = (math.nan, "")


def iso_time(epoch: float) -> str:
    """A record's timestamp: UTC, ISO 8601 with microseconds (one spelling per instant).

    The spelling of ``datetime.fromtimestamp(epoch, UTC).isoformat()`` (microseconds rounded
    half to even), with the whole-second prefix cached: appends in one second share it.
    """
    global _last_second
    frac, whole = math.modf(epoch)
    micros = round(frac * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    second, prefix = _last_second
    if second != whole:
        prefix = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (whole, prefix)
    return f"{prefix}.{micros:06d}Z"


_SCALARS = frozenset((str, int, bool, type(None)))


def plain(value: Any) -> Any:
    """``value`` as JSON the canonical encoding accepts: non-finite floats and objects become text."""
    if type(value) in _SCALARS:
        return value
    if type(value) is dict and all(type(k) is str and type(v) in _SCALARS for k, v in value.items()):
        return value
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse(value: object) -> object:
    raise TypeError(f"not JSON: {type(value).__name__}")


def _c_chunks() -> Callable[[Any, int], Sequence[str]] | None:
    """The C encoder ``json.dumps`` uses inside, built once (``json.dumps`` builds it per call):
    called with a value and 0, it returns the value's canonical JSON in pieces.

    None when this Python has none, or its spelling differs from ``json.dumps`` on a sample.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        chunks: Callable[[Any, int], Sequence[str]] = make(
            None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
        )
        sample = {"b": [1, 2.5, None, True], "a": 'é\n"', "c": {"y": -1, "x": ""}}
        if "".join(chunks(sample, 0)) != _ENCODER.encode(sample):
            return None
    except (TypeError, ValueError):
        return None
    return chunks


_chunks = _c_chunks() or (lambda value, _indent: (_ENCODER.encode(value),))
"""Canonical JSON of a value in pieces (joined by the caller: no Python frame in between)."""


def _encode_json(value: Any) -> str:
    return "".join(_chunks(value, 0))


def encode_fields(fields: Mapping[str, Any]) -> bytes:
    """The canonical encoding of a record's members after ``seq`` and ``prev``, without the
    opening brace: ``"action":...,"actor":...}`` in sorted key order, compact, UTF-8.

    Exactly ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False)[1:]``, through an encoder built once. Done by the caller, outside the
    journal's critical section.
    """
    if len(fields) == len(FIELDS):
        try:  # a record's usual members, sorted: one f-string, each string escaped by the C escaper
            return (
                f'"action":{_escape(fields["action"])},"actor":{_escape(fields["actor"])},'
                f'"details":{"".join(_chunks(fields["details"], 0))},"outcome":{_escape(fields["outcome"])},'
                f'"resource":{_escape(fields["resource"])},"span_id":{_escape(fields["span_id"])},'
                f'"trace_id":{_escape(fields["trace_id"])},"ts":{_escape(fields["ts"])}}}'
            ).encode()
        except (KeyError, TypeError):  # other members, or a value that is not a string
            pass
    if type(fields) is not dict:
        fields = dict(fields)
    return _encode_json(fields)[1:].encode()


_escape = json.encoder.encode_basestring


def chain_line(seq: int, prev: str, encoded: bytes) -> tuple[bytes, str]:
    """The stored line of a record whose members are ``encoded`` (:func:`encode_fields`), and its hash."""
    data, [(_, _, digest)], _ = chain_lines(seq - 1, prev, (encoded,))
    return data, digest


def chain_lines(seq: int, prev: str, encoded: Iterable[bytes]) -> tuple[bytes, list[tuple[int, str, str]], list[bytes]]:
    """The records ``encoded`` (:func:`encode_fields`) chained after record ``seq`` whose hash is
    ``prev``: their stored lines joined, ``(seq, prev, hash)`` of each, and each hash as raw bytes
    (what a Merkle tree hashes). One loop for a whole group, pieces joined once."""
    pieces: list[bytes] = []
    committed: list[tuple[int, str, str]] = []
    digests: list[bytes] = []
    piece, record, raw = pieces.append, committed.append, digests.append
    prev_hex = prev.encode()
    for body in encoded:
        seq += 1
        head = b'{"seq":%d,"prev":"%s",' % (seq, prev_hex)
        digest = _sha256(head + body).digest()
        hex_digest = _hexlify(digest)
        hash_text = hex_digest.decode()
        record((seq, prev, hash_text))
        raw(digest)
        piece(head)
        piece(body[:-1])
        piece(HASH_MARK)
        piece(hex_digest)
        piece(b'"}\n')
        prev, prev_hex = hash_text, hex_digest
    return b"".join(pieces), committed, digests


_sha256 = hashlib.sha256
_hexlify = binascii.hexlify


def canonical_body(seq: int, prev: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers (see the module docstring)."""
    return b'{"seq":%d,"prev":"%s",' % (seq, prev.encode()) + encode_fields(fields)


def encode_record(seq: int, prev: str, fields: Mapping[str, Any]) -> tuple[bytes, str]:
    """The stored line of a record and its hash."""
    return chain_line(seq, prev, encode_fields(fields))


class AuditRecord(NamedTuple):
    """One stored record, as read back or as returned by an append (a tuple: cheap to make)."""

    seq: int
    prev: str
    hash: str
    ts: str
    actor: str
    action: str
    resource: str
    outcome: str
    trace_id: str
    span_id: str
    details: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditRecord:
        return cls(**{name: data[name] for name in ("seq", "prev", "hash", *FIELDS)})

    def to_json(self) -> dict[str, Any]:
        data = self._asdict()
        data["details"] = dict(self.details)
        return data


def record_fields(
    *,
    ts: float,
    actor: str,
    action: str,
    resource: str,
    outcome: str,
    trace_id: str = "",
    span_id: str = "",
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The members of a record before it is sequenced (plain JSON, every value checked)."""
    for name, value in (("action", action), ("resource", resource), ("outcome", outcome)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"audit {name} must be a non-empty string (got {value!r})")
    return {
        "ts": iso_time(ts),
        "actor": str(actor),
        "action": action,
        "resource": resource,
        "outcome": outcome,
        "trace_id": trace_id,
        "span_id": span_id,
        "details": plain(dict(details or {})),
    }


# -- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """HMAC-SHA-256 with the configured checkpoint key; ``key_id`` names the key, never reveals it."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise AuditError("the audit checkpoint key must be at least 16 bytes")

    @cached_property
    def key_id(self) -> str:
        return hmac.digest(self.key, _KEY_ID_CONTEXT, "sha256").hex()[:16]

    def mac(self, message: bytes) -> str:
        return hmac.digest(self.key, message, "sha256").hex()

    def verify(self, message: bytes, mac: str) -> bool:
        return hmac.compare_digest(self.mac(message), mac)

    def pseudonym(self, actor: str, key: bytes | None = None) -> str:
        """A stable keyed pseudonym for ``actor`` (joins across records, reveals nothing)."""
        secret = key if key is not None else hmac.new(self.key, _PSEUDONYM_CONTEXT, hashlib.sha256).digest()
        return "hmac:" + hmac.new(secret, actor.encode(), hashlib.sha256).hexdigest()[:32]


# -- Merkle trees (RFC 6962 shape) --------------------------------------------------------------


def leaf_hash(record_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + record_hash).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_levels(record_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first; a lone last node is promoted (RFC 6962's split).

    :func:`leaf_hash` and :func:`_node` over whole levels at once (``map`` of C functions: a
    checkpoint of 1,000 records hashes about 2,000 nodes)."""
    level = _sha256_all(map(bytes.__add__, repeat(b"\x00"), record_hashes))
    levels = [level]
    while len(level) > 1:
        even = len(level) - len(level) % 2
        paired = _sha256_all(map(bytes.__add__, map(bytes.__add__, repeat(b"\x01"), level[0:even:2]), level[1:even:2]))
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
        levels.append(level)
    return levels


def _sha256_all(messages: Iterable[bytes]) -> list[bytes]:
    return list(map(_digest, map(_short_sha256, messages)))


def _builtin_sha256() -> Callable[[bytes], Any]:
    """CPython's own SHA-256 (``_sha2`` from 3.12, ``_sha256`` before), else hashlib's. For the
    33- and 65-byte messages of a Merkle tree it costs about two thirds of OpenSSL's per call
    (OpenSSL's fixed cost per hash object dominates there; for a ~300-byte record it is faster)."""
    for name in ("_sha2", "_sha256"):
        with contextlib.suppress(ImportError):
            function: Callable[[bytes], Any] = importlib.import_module(name).sha256
            return function
    return hashlib.sha256


_short_sha256 = _builtin_sha256()


_digest = methodcaller("digest")


def merkle_root(record_hashes: Sequence[bytes]) -> str:
    """Root over the records' hashes (SHA-256 of nothing for an empty tree)."""
    if not record_hashes:
        return hashlib.sha256(b"").hexdigest()
    return merkle_levels(record_hashes)[-1][0].hex()


def proof_from_levels(levels: Sequence[Sequence[bytes]], index: int) -> list[str]:
    """Sibling hashes from leaf ``index`` to the root, bottom up."""
    if not 0 <= index < len(levels[0]):
        raise IndexError(f"leaf {index} is outside a tree of {len(levels[0])}")
    proof: list[str] = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling].hex())
        index //= 2
    return proof


def inclusion_proof(record_hashes: Sequence[bytes], index: int) -> list[str]:
    """The proof of one leaf (build :func:`merkle_levels` once for many)."""
    return proof_from_levels(merkle_levels(record_hashes), index)


def verify_inclusion(record_hash: str, index: int, size: int, proof: Sequence[str], root: str) -> bool:
    """True when ``proof`` places the record with ``record_hash`` at ``index`` under ``root``."""
    if not 0 <= index < size:
        return False
    node = leaf_hash(bytes.fromhex(record_hash))
    steps = iter(proof)
    try:
        while size > 1:
            if index % 2:
                node = _node(bytes.fromhex(next(steps)), node)
            elif index + 1 < size:
                node = _node(node, bytes.fromhex(next(steps)))
            index, size = index // 2, (size + 1) // 2
    except StopIteration:
        return False
    return next(steps, None) is None and node.hex() == root


# -- checkpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement about the records ``first_seq..last_seq`` and every checkpoint before."""

    index: int
    first_seq: int
    last_seq: int
    last_hash: str
    merkle_root: str
    end_offset: int
    """Journal size in bytes after ``last_seq``: where a reader resumes without rescanning."""
    ts: str
    prev_mac: str
    key_id: str
    mac: str = ""
    sig_key_id: str = ""
    """The Ed25519 key's id when the checkpoint is also signed with one (else empty and not stored)."""
    sig: str = ""
    """Ed25519 signature over the same bytes as ``mac``; checkable with the public key alone."""

    def signed_bytes(self) -> bytes:
        """What ``mac`` and ``sig`` cover: every member but those two (``prev_mac`` chains them)."""
        data = self._stored()
        del data["mac"]
        data.pop("sig", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> bytes:
        return json.dumps(self._stored(), sort_keys=True, separators=(",", ":")).encode() + b"\n"

    def _stored(self) -> dict[str, Any]:
        data = self._fields()
        if not self.sig_key_id:
            del data["sig_key_id"], data["sig"]
        return data

    def _fields(self) -> dict[str, Any]:
        """Every member by name (all are str or int: ``dataclasses.asdict`` would deep-copy them for nothing)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        optional = ("sig_key_id", "sig")
        return cls(**{n: data[n] for n in cls.__dataclass_fields__ if n not in optional or n in data})


class Ed25519Signer(Protocol):
    """What a checkpoint needs of a signing key (:class:`~.signing.SigningKey`)."""

    key_id: str

    def sign(self, message: bytes) -> str: ...


def make_checkpoint(
    signer: Signer,
    *,
    previous: Checkpoint | None,
    digests: Sequence[bytes],
    last_seq: int,
    end_offset: int,
    now: float,
    ed25519: Ed25519Signer | None = None,
) -> Checkpoint:
    """Sign the records ending at ``last_seq`` whose hashes (raw SHA-256 digests) are ``digests``
    (oldest first); with ``ed25519``, also with that key."""
    unsigned = Checkpoint(
        index=0 if previous is None else previous.index + 1,
        first_seq=last_seq - len(digests) + 1,
        last_seq=last_seq,
        last_hash=digests[-1].hex(),
        merkle_root=merkle_root(digests),
        end_offset=end_offset,
        ts=iso_time(now),
        prev_mac="" if previous is None else previous.mac,
        key_id=signer.key_id,
        sig_key_id="" if ed25519 is None else ed25519.key_id,
    )
    message = unsigned.signed_bytes()
    sig = "" if ed25519 is None else ed25519.sign(message)
    return Checkpoint(**{**unsigned._fields(), "mac": signer.mac(message), "sig": sig})


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to sign: after ``every_records`` records, or ``every_seconds`` after the first unsigned one."""

    every_records: int = 1000
    every_seconds: float = 60.0

    def due(self, unsigned: int, oldest_unsigned_at: float | None, now: float) -> bool:
        if unsigned <= 0:
            return False
        if unsigned >= self.every_records:
            return True
        return oldest_unsigned_at is not None and now - oldest_unsigned_at >= self.every_seconds


def head_bytes(seq: int, digest: str) -> bytes:
    """What the head MAC covers: the newest durable record."""
    return f"head:{seq}:{digest}".encode()


_SEQ_MARK = b'{"seq":'
_PREV_MARK = b',"prev":"'


def split_line(line: bytes) -> tuple[int, str, str, bytes] | None:
    """``(seq, prev, stored hash, canonical body)`` of a stored line (with its newline), or None
    when the line does not have a record's shape. Slicing only: verification stays fast."""
    if len(line) < SUFFIX_LEN + 80 or line[-SUFFIX_LEN : -SUFFIX_LEN + 9] != HASH_MARK or line[-3:] != b'"}\n':
        return None
    if not line.startswith(_SEQ_MARK):
        return None
    comma = line.find(b",", 7, 40)
    if comma < 0 or line[comma : comma + 9] != _PREV_MARK or line[comma + 73 : comma + 75] != b'",':
        return None
    digits = line[7:comma]
    if not digits.isdigit():
        return None
    return (
        int(digits),
        line[comma + 9 : comma + 73].decode("ascii", "replace"),
        line[-67:-3].decode("ascii", "replace"),
        line[:-SUFFIX_LEN] + b"}",
    )
