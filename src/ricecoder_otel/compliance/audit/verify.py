"""Verify a journal: every record, the chain, the signed checkpoints and the signed head.

The result names the first bad sequence number, meaning the lowest sequence number whose
record is altered, missing, duplicated or out of place:

- a line whose content does not match its own hash: the sequence number expected there;
- a self-consistent line with the wrong sequence number (a record deleted, inserted or moved):
  the lower of the number found and the number expected;
- a line whose ``prev`` is not the hash of the record before: that record (it was changed and
  its own hash recomputed);
- a record at the end of a checkpoint that is not the one the checkpoint signed: that record
  (the message names the checkpoint's range: records rewritten with recomputed hashes, which
  only the key holder could have signed again);
- records missing at the end that a checkpoint or the head had covered: the first missing one.

Checkpoints are checked against the key first, so a wrong key is reported as such
(:class:`WrongKeyError`) rather than as tampering. One pass, slicing and hashing only.

A large journal can be checked by several worker processes at once (``jobs``): each reads its own
byte range of whole lines and checks it from the sequence number and ``prev`` its first line
claims; the ranges are then stitched (each must start at the number and hash where the one before
ended). The first range that fails or does not stitch is rescanned in this process, from the state
the ranges before it proved, so the result names the same first bad record as one process would.

Two ways to check the signatures: with the HMAC key (the operator), or with only the Ed25519
public key (a third party: checkpoints and head must then carry Ed25519 signatures); with both,
both are checked. The records themselves need no key.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from binascii import unhexlify
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, BinaryIO

from ricecoder_otel.compliance.audit.engine import (
    GENESIS,
    HASH_MARK,
    SUFFIX_LEN,
    AuditError,
    Checkpoint,
    Signer,
    head_bytes,
    merkle_root,
)
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, HEAD, JOURNAL, read_checkpoints
from ricecoder_otel.compliance.audit.signing import PublicKey

_READ_SIZE = 1 << 18
"""Bytes per block (~750 records): the block's lines, bodies and digests, made in whole-list passes,
then stay in the CPU cache between passes (4 MiB blocks measured 12-20% slower)."""

_PARALLEL_MIN_BYTES = 32 << 20
"""With ``jobs=None``, journals smaller than this (~100,000 records) are checked in one process:
starting workers would cost more than they save."""

_RANGES_PER_JOB = 4
"""Byte ranges per worker: a worker slowed by other load holds back a quarter of its share, not all
of it, and a failing range is rescanned alone."""


class WrongKeyError(AuditError):
    """The checkpoints were signed with another key than the one given."""


@dataclass
class VerifyResult:
    """What a verification found; ``ok`` is False exactly when ``first_bad_seq`` or ``problem`` is set."""

    journal: str
    records: int = 0
    last_seq: int = 0
    checkpoints: int = 0
    unsigned: int = 0
    """Records after the last checkpoint (chained and covered by the head, not yet signed)."""
    head_seq: int | None = None
    torn_bytes: int = 0
    """A final write cut short by a crash (its caller was never told it was recorded)."""
    first_bad_seq: int | None = None
    problem: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    signatures: tuple[str, ...] = ()
    """Which signatures were checked: ``hmac``, ``ed25519`` or both."""
    jobs: int = 1
    """Worker processes that checked byte ranges at once (1: this process alone)."""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def fail(self, seq: int | None, problem: str) -> VerifyResult:
        self.first_bad_seq, self.problem = seq, problem
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "journal": self.journal,
            "records": self.records,
            "last_seq": self.last_seq,
            "checkpoints": self.checkpoints,
            "unsigned": self.unsigned,
            "head_seq": self.head_seq,
            "torn_bytes": self.torn_bytes,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "seconds": round(self.seconds, 6),
            "notes": self.notes,
            "signatures": list(self.signatures),
            "jobs": self.jobs,
        }


def verify_journal(
    directory: str | Path,
    key: bytes | None,
    *,
    public_key: PublicKey | None = None,
    progress: Callable[[int], None] | None = None,
    deep: bool = False,
    jobs: int | None = 1,
    executor: Executor | None = None,
) -> VerifyResult:
    """Check the journal in ``directory`` with checkpoint key ``key`` and/or Ed25519 ``public_key``.

    ``deep`` also recomputes each checkpoint's Merkle root (the root inclusion proofs rest on).
    Without it the signed last hash of each checkpoint is compared: through the chain it
    already binds every record of the range, so tampering is caught either way.

    ``jobs`` worker processes check byte ranges of the journal at once (``None``: one per CPU when
    the journal is large; one process for a small one); the result is the same as with one.
    ``executor`` runs those checks instead of a pool started for this call (a caller that verifies
    often keeps one). ``deep`` always runs in one process.

    Raises :class:`AuditError` when there is no journal to check or no key to check it with, and
    :class:`WrongKeyError` when the checkpoints were signed with another key than the one given;
    tampering is reported in the result.
    """
    started = time.perf_counter()
    directory = Path(directory)
    path = directory / JOURNAL
    if not path.is_file():
        raise AuditError(f"no audit journal at {path}")
    if key is None and public_key is None:
        raise AuditError("no key to verify the audit journal with: give the checkpoint key or the Ed25519 public key")
    keys = _Keys(None if key is None else Signer(key), public_key)
    result = VerifyResult(journal=str(path), signatures=keys.names())
    checkpoints = read_checkpoints(directory / CHECKPOINTS)
    bad = _check_checkpoint_signatures(checkpoints, keys)
    if bad is not None:
        return _done(
            result.fail(
                bad.first_seq,
                f"checkpoint {bad.index} (records {bad.first_seq}..{bad.last_seq}) "
                "has an invalid signature or does not follow the one before",
            ),
            started,
        )
    result.checkpoints = len(checkpoints)
    head = _read_head(directory / HEAD, keys, result)
    if not result.ok:
        return _done(result, started)
    workers = _workers(path, jobs, deep, checkpoints)
    result.jobs = workers
    if workers > 1:
        _scan_parallel(path, checkpoints, head, result, progress, workers, executor)
    else:
        _scan(path, checkpoints, head, result, progress, deep)
    if result.ok:
        _check_end(checkpoints, head, result)
    return _done(result, started)


@dataclass(frozen=True)
class _Keys:
    hmac: Signer | None
    public: PublicKey | None

    def names(self) -> tuple[str, ...]:
        return (("hmac",) if self.hmac else ()) + (("ed25519",) if self.public else ())

    def check(self, message: bytes, data: Mapping[str, Any]) -> bool:
        """Every signature this verifier can check holds over ``message``."""
        if self.hmac is not None and not self.hmac.verify(message, str(data.get("mac", ""))):
            return False
        return self.public is None or (
            data.get("sig_key_id") == self.public.key_id and self.public.verify(message, str(data.get("sig", "")))
        )


def _done(result: VerifyResult, started: float) -> VerifyResult:
    result.seconds = time.perf_counter() - started
    return result


def _check_checkpoint_signatures(checkpoints: list[Checkpoint], keys: _Keys) -> Checkpoint | None:
    if checkpoints and keys.hmac is not None and checkpoints[0].key_id != keys.hmac.key_id:
        raise WrongKeyError(
            f"the checkpoints were signed with key id {checkpoints[0].key_id}, the key given has id "
            f"{keys.hmac.key_id}: wrong checkpoint key"
        )
    if checkpoints and keys.public is not None and checkpoints[0].sig_key_id not in ("", keys.public.key_id):
        raise WrongKeyError(
            f"the checkpoints were signed with Ed25519 key {checkpoints[0].sig_key_id}, the public key given is "
            f"{keys.public.key_id}: wrong public key"
        )
    previous: Checkpoint | None = None
    for checkpoint in checkpoints:
        expected_index = 0 if previous is None else previous.index + 1
        expected_prev = "" if previous is None else previous.mac
        expected_first = 1 if previous is None else previous.last_seq + 1
        if (
            checkpoint.index != expected_index
            or checkpoint.prev_mac != expected_prev
            or checkpoint.first_seq != expected_first
            or not keys.check(checkpoint.signed_bytes(), {"mac": checkpoint.mac, "sig_key_id": checkpoint.sig_key_id,
                                                          "sig": checkpoint.sig})
        ):  # fmt: skip
            return checkpoint
        previous = checkpoint
    return None


def _read_head(path: Path, keys: _Keys, result: VerifyResult) -> tuple[int, str] | None:
    try:
        data = json.loads(path.read_bytes())
        seq, digest = int(data["seq"]), str(data["hash"])
    except FileNotFoundError:
        result.notes.append(f"{path} is missing: truncation after the last checkpoint cannot be ruled out")
        return None
    except (ValueError, KeyError, TypeError):
        result.fail(None, f"{path} is unreadable: truncation after the last checkpoint cannot be ruled out")
        return None
    if not keys.check(head_bytes(seq, digest), data):
        result.fail(None, f"{path} has an invalid or missing signature (forged or replaced head)")
        return None
    result.head_seq = seq
    return seq, digest


def _blocks(handle: BinaryIO, read_size: int, length: int | None = None) -> Iterator[bytes]:
    """The file from its current position (to the end, or ``length`` bytes) in large blocks of whole
    lines; only the last block may end without a newline (a write torn by a crash)."""
    rest, left = b"", length
    while (left is None or left > 0) and (block := handle.read(read_size if left is None else min(read_size, left))):
        if left is not None:
            left -= len(block)
        data = rest + block
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut]
    if rest:
        yield rest


@dataclass
class _Scan:
    """Where the scan is: the record expected next, the hash it must link to, the checkpoint it is in."""

    checkpoints: list[Checkpoint]
    head_seq: int
    head_hash: bytes
    deep: bool
    expected: int = 1
    prev: bytes = GENESIS.encode()
    checkpoint: int = 0
    """Index of the checkpoint covering ``expected`` (``len(checkpoints)`` past the last one)."""
    leaves: list[bytes] = field(default_factory=list)
    """With ``deep``: the record hashes so far of the current checkpoint's range."""


def _scan(
    path: Path,
    checkpoints: list[Checkpoint],
    head: tuple[int, str] | None,
    result: VerifyResult,
    progress: Callable[[int], None] | None,
    deep: bool,
) -> None:
    """Every record in file order: each block of lines through :func:`_fast_block`, and only a block
    it does not pass (tampering, a torn write, an unusual spelling) through :func:`_slow_block`,
    which finds and names the first bad record exactly."""
    _scan_from(path, 0, _Scan(checkpoints, *_head_values(head), deep), result, progress)


def _head_values(head: tuple[int, str] | None) -> tuple[int, bytes]:
    return (head[0], head[1].encode()) if head is not None else (-1, b"")


def _scan_from(
    path: Path, offset: int, scan: _Scan, result: VerifyResult, progress: Callable[[int], None] | None
) -> None:
    """:func:`_scan` from byte ``offset`` (a line start), where ``scan`` says the records before end."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for block in _blocks(handle, _READ_SIZE):
            first = scan.expected
            if not _fast_block(block, scan) and not _slow_block(block, scan, result):
                if not result.ok:
                    return
                break  # a torn final write
            _report(progress, first, scan.expected)
    result.records = result.last_seq = scan.expected - 1
    result.unsigned = result.last_seq - (scan.checkpoints[-1].last_seq if scan.checkpoints else 0)


def _report(progress: Callable[[int], None] | None, first: int, expected: int) -> None:
    """Progress at every multiple of 100,000 passed between ``first`` and ``expected``."""
    if progress is not None:
        for seq in range(-(-first // 100_000) * 100_000, expected, 100_000):
            progress(seq)


def _workers(path: Path, jobs: int | None, deep: bool, checkpoints: list[Checkpoint]) -> int:
    """How many processes check the journal: one for ``deep`` (Merkle roots span the ranges), for
    checkpoints whose numbers do not rise (only the line-by-line scan names what is wrong there)
    and, with ``jobs=None``, for a journal under :data:`_PARALLEL_MIN_BYTES`."""
    if jobs is not None and jobs < 1:
        raise AuditError(f"jobs must be at least 1, not {jobs}")
    if deep or any(checkpoint.last_seq < checkpoint.first_seq for checkpoint in checkpoints):
        return 1
    if jobs is None:
        return (os.cpu_count() or 1) if path.stat().st_size >= _PARALLEL_MIN_BYTES else 1
    return jobs


def _line_starts(path: Path, size: int, count: int) -> list[int]:
    """Offsets that cut the first ``size`` bytes of the file into up to ``count`` ranges of whole
    lines of about equal size: each cut is just after a newline."""
    starts = [0]
    with path.open("rb") as handle:
        for target in range(1, count):
            at = max(size * target // count, starts[-1] + 1)
            handle.seek(at - 1)
            while (piece := handle.read(1 << 16)) and (newline := piece.find(b"\n")) < 0:
                at += len(piece)
            if not piece or at + newline >= size:
                break
            starts.append(at + newline)
    return starts


def _scan_parallel(
    path: Path,
    checkpoints: list[Checkpoint],
    head: tuple[int, str] | None,
    result: VerifyResult,
    progress: Callable[[int], None] | None,
    jobs: int,
    executor: Executor | None,
) -> None:
    """The journal as it is now in ``jobs * _RANGES_PER_JOB`` byte ranges checked at once by
    :func:`_check_range`, stitched in order; from the first range that fails or does not stitch
    (and after the last, for records appended meanwhile) :func:`_scan_from` goes on in this process."""
    scan = _Scan(checkpoints, *_head_values(head), False)
    size = path.stat().st_size
    starts = _line_starts(path, size, jobs * _RANGES_PER_JOB)
    ends = [*starts[1:], size]
    pool = executor if executor is not None else _pool(min(jobs, len(starts)))
    futures: list[Future[tuple[int, bytes, int, bytes] | None]] = [
        pool.submit(_check_range, str(path), start, end - start, _READ_SIZE, checkpoints, scan.head_seq,
                    scan.head_hash)
        for start, end in zip(starts, ends, strict=True)
    ]  # fmt: skip
    offset, last_seqs = 0, [checkpoint.last_seq for checkpoint in checkpoints]
    try:
        for end, future in zip(ends, futures, strict=True):
            claimed = _claimed(future)
            if claimed is None or claimed[:2] != (scan.expected, scan.prev):
                break
            first, (scan.expected, scan.prev) = scan.expected, claimed[2:]
            scan.checkpoint = bisect_left(last_seqs, scan.expected)
            offset = end
            _report(progress, first, scan.expected)
    finally:
        for future in futures:
            future.cancel()
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
    _scan_from(path, offset, scan, result, progress)


def _claimed(future: Future[tuple[int, bytes, int, bytes] | None]) -> tuple[int, bytes, int, bytes] | None:
    """A range's result; None, so that this process rescans it, when its worker could not read it
    (the file changed under it) or died."""
    try:
        return future.result()
    except (OSError, BrokenExecutor):
        return None


def _pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes for one verification: forked when this process runs one thread (no start-up
    cost), started afresh otherwise (forking a process with threads can copy a held lock)."""
    method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method))


def _check_range(
    path: str, start: int, length: int, read_size: int, checkpoints: list[Checkpoint], head_seq: int, head_hash: bytes
) -> tuple[int, bytes, int, bytes] | None:
    """In a worker: the whole lines in ``length`` bytes from ``start``, through :func:`_fast_block`
    from the sequence number and ``prev`` the first line claims. Returns those two and the number
    and hash the range ends with (what the next range must claim); None when any block fails."""
    with open(path, "rb") as handle:
        handle.seek(start)
        blocks = _blocks(handle, read_size, length)
        block = next(blocks, b"")
        comma = block.find(b",", 7, 40)
        if block[:7] != b'{"seq":' or comma < 0 or not block[7:comma].isdigit():
            return None
        first, prev = int(block[7:comma]), block[comma + 9 : comma + 73]
        last_seqs = [checkpoint.last_seq for checkpoint in checkpoints]
        scan = _Scan(checkpoints, head_seq, head_hash, False, first, prev, bisect_left(last_seqs, first))
        while block:
            if not _fast_block(block, scan):
                return None
            block = next(blocks, b"")
    return first, prev, scan.expected, scan.prev


_body = itemgetter(slice(None, 1 - SUFFIX_LEN))
_tail = itemgetter(slice(1 - SUFFIX_LEN, None))
_hexdigest = methodcaller("hexdigest")


def _fast_block(block: bytes, scan: _Scan) -> bool:
    """True when every record of ``block`` (whole lines) holds, and the scan has moved past them.

    The checks of :func:`_slow_block` as whole-block passes of C functions, no Python code per
    record: each line must end with ``,"hash":"<its SHA-256>"}`` and begin with
    ``{"seq":<the next number>,"prev":"<the previous line's hash>",``. Those ends and beginnings
    are each compared as one joined string with one built from the expected values: every piece
    has a fixed width (a shorter line makes the join shorter), so equal joins mean equal pieces.
    False, with the scan unchanged, when anything differs; the caller then rescans the block line
    by line.
    """
    if block[-1:] != b"\n" or b"\r" in block:  # \r: slow_block's splitlines() would split there
        return False
    lines = block.split(b"\n")
    lines.pop()
    n = len(lines)
    first, last = scan.expected, scan.expected + n - 1
    digests = list(map(_hexdigest, map(hashlib.sha256, map(bytes.__add__, map(_body, lines), repeat(b"}", n)))))
    if b"".join(map(_tail, lines)) != (',"hash":"' + '"},"hash":"'.join(digests) + '"}').encode():
        return False
    if not _heads_match(lines, first, [scan.prev.decode(), *digests[:-1]]):
        return False
    if first <= scan.head_seq <= last and digests[scan.head_seq - first].encode() != scan.head_hash:
        return False
    raw = list(map(unhexlify, digests)) if scan.deep else []
    index, leaves, start = scan.checkpoint, scan.leaves, 0
    while index < len(scan.checkpoints) and scan.checkpoints[index].last_seq <= last:
        checkpoint = scan.checkpoints[index]
        end = checkpoint.last_seq - first + 1
        if end < 1 or digests[end - 1] != checkpoint.last_hash:
            return False
        if scan.deep and merkle_root(leaves + raw[start:end]) != checkpoint.merkle_root:
            return False
        index, leaves, start = index + 1, [], end
    if scan.deep and index < len(scan.checkpoints):
        leaves = leaves + raw[start:]
    scan.expected, scan.prev, scan.checkpoint, scan.leaves = last + 1, digests[-1].encode(), index, leaves
    return True


def _heads_match(lines: list[bytes], first: int, prevs: list[str]) -> bool:
    """Line ``i`` begins with ``{"seq":<first + i>,"prev":"<prevs[i]>",``. Checked per run of
    sequence numbers with the same count of digits, where ``{"seq":<n>,"prev":"`` and the
    ``<prev>",`` after it have fixed widths: two joined comparisons per run."""
    start = 0
    while start < len(lines):
        seq = first + start
        width = len(str(seq)) + len('{"seq":,"prev":"')
        stop = min(len(lines), 10 ** len(str(seq)) - first)
        run = lines[start:stop]
        numbers = '{"seq":' + ',"prev":"{"seq":'.join(map(str, range(seq, stop + first))) + ',"prev":"'
        if b"".join(map(itemgetter(slice(None, width)), run)) != numbers.encode():
            return False
        if b"".join(map(itemgetter(slice(width, width + 66)), run)) != ('",'.join(prevs[start:stop]) + '",').encode():
            return False
        start = stop
    return True


def _slow_block(block: bytes, scan: _Scan, result: VerifyResult) -> bool:
    """Check ``block`` one line at a time: slicing and one SHA-256 per record (see
    :func:`~.engine.split_line` for the layout). False when it failed (``result`` says where) or
    ended at a torn write (noted in ``result``)."""
    expected, prev = scan.expected, scan.prev
    checkpoints, index, leaves = scan.checkpoints, scan.checkpoint, scan.leaves
    current = checkpoints[index] if index < len(checkpoints) else None
    signed_last = current.last_hash.encode() if current is not None else b""
    sha256, suffix, mark_end = hashlib.sha256, -SUFFIX_LEN, -SUFFIX_LEN + len(HASH_MARK)
    ok = True
    for line in block.splitlines(keepends=True):
        if line[-1:] != b"\n":
            result.torn_bytes = len(line)
            result.notes.append(f"a final write of {len(line)} bytes was cut short (a crash mid-append)")
            ok = False
            break
        stored = line[-67:-3]
        comma = line.find(b",", 7, 40)
        if (
            line[suffix:mark_end] != HASH_MARK
            or line[-3:] != b'"}\n'
            or line[:7] != b'{"seq":'
            or comma < 0
            or line[comma : comma + 9] != b',"prev":"'
            or line[comma + 73 : comma + 75] != b'",'
            or not line[7:comma].isdigit()
        ):
            result.fail(expected, f"line {expected} is not an audit record (edited or corrupt)")
            return False
        digest = sha256(line[:suffix] + b"}").hexdigest().encode()
        if digest != stored:
            result.fail(expected, f"record {expected} does not match its hash (edited)")
            return False
        seq = int(line[7:comma])
        if seq != expected:
            result.fail(
                min(seq, expected),
                f"found record {seq} where record {expected} belongs (records deleted, inserted or reordered)",
            )
            return False
        if line[comma + 9 : comma + 73] != prev:
            result.fail(
                max(expected - 1, 1),
                f"record {expected} does not link to record {expected - 1} (record {max(expected - 1, 1)} was altered)",
            )
            return False
        if seq == scan.head_seq and digest != scan.head_hash:
            result.fail(seq, f"record {seq} differs from the signed head (altered and rehashed)")
            return False
        if current is not None:
            if scan.deep:
                leaves.append(unhexlify(digest))
            if seq == current.last_seq:
                if digest != signed_last or (scan.deep and merkle_root(leaves) != current.merkle_root):
                    result.fail(
                        seq,
                        f"record {seq} is not the record checkpoint {current.index} signed; records "
                        f"{current.first_seq}..{seq} were rewritten with recomputed hashes",
                    )
                    return False
                index += 1
                leaves = []
                current = checkpoints[index] if index < len(checkpoints) else None
                signed_last = current.last_hash.encode() if current is not None else b""
        prev, expected = digest, expected + 1
    scan.expected, scan.prev, scan.checkpoint, scan.leaves = expected, prev, index, leaves
    return ok


def _check_end(checkpoints: list[Checkpoint], head: tuple[int, str] | None, result: VerifyResult) -> None:
    covered = max(checkpoints[-1].last_seq if checkpoints else 0, head[0] if head is not None else 0)
    if covered > result.last_seq:
        result.fail(
            result.last_seq + 1, f"records {result.last_seq + 1}..{covered} are missing (the journal was truncated)"
        )
