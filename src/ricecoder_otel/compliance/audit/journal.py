"""Durable appends to the audit journal: a local append-only file, fsynced before a call returns.

Why a file and not the shared store: an append is one ``write`` of the group's lines and one
``fdatasync``, with no SQL, no WAL checkpointing and no network hop; the file is the evidence
itself (one canonical JSON record per line) and verifies with nothing but SHA-256. PostgreSQL
deployments still keep one journal per host, next to the collector agent that exports it.

The directory holds:

``journal.jsonl``      the records, one per line (see :mod:`.engine` for the encoding)
``checkpoints.jsonl``  signed checkpoints, fsynced too
``head.json``          the newest durable record's sequence number and hash, signed (HMAC, and
                       Ed25519 when a signing key is configured); rewritten
                       after every group commit (not fsynced: after a power cut it can only lag
                       the journal, which verification accepts). It is how truncation is seen.
``checkpoint.key``     the HMAC key, created (mode 0600) only when none is configured

Group commit: a caller encodes its record (outside any lock), joins the open group and waits.
A caller that finds no flush in progress becomes the leader: it takes the group, sequences and
hashes it, writes it in one call, fsyncs, and wakes that group's callers only. While it syncs,
new callers join the next group; when it is done it hands the lead to one of them, so
concurrent callers share fsyncs and no caller leads more than one group. Several processes
(gunicorn workers) may share one journal: the leader holds an exclusive ``flock`` while it
sequences and writes, and first re-reads the tail if another process appended since.

Coroutines (``append_async``) do not wait in threads: their event loop hands their records to
one committer thread, which joins the same groups and wakes the loop once per group
(:class:`_AsyncCommits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit.engine import (
    GENESIS,
    AuditError,
    AuditRecord,
    Checkpoint,
    CheckpointPolicy,
    Ed25519Signer,
    Signer,
    chain_lines,
    encode_fields,
    head_bytes,
    make_checkpoint,
    split_line,
)

Clock = Callable[[], float]

JOURNAL = "journal.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
HEAD = "head.json"
KEY_FILE = "checkpoint.key"
HEAD_SIZE = 512


def load_key(directory: Path, configured: bytes | None, *, create: bool) -> bytes:
    """The configured key, else the journal's own key file (created when ``create``)."""
    if configured is not None:
        return configured
    path = directory / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        if not create:
            raise AuditError(
                f"no checkpoint key: set compliance.audit.checkpoint_key or keep {path} beside the journal"
            ) from None
    except ValueError:
        raise AuditError(f"{path}: not a hex key (the key file is corrupt)") from None
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file; a line that is not one is an error naming the line."""
    found: list[Checkpoint] = []
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return found
    for number, line in enumerate(text.splitlines(), 1):
        try:
            found.append(Checkpoint.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as error:
            raise AuditError(f"{path}:{number}: not a checkpoint ({type(error).__name__})") from None
    return found


def _closed_gate() -> threading.Lock:
    gate = threading.Lock()
    gate.acquire()
    return gate


class _Group:
    """Records committed together: one write, one fsync, one wake-up of their callers.

    Its first caller leads it (at once, or when the flush before it hands over ``lead``); the
    others wait on ``done``, which the leader opens and each waiter passes on to the next.
    """

    __slots__ = ("done", "encoded", "error", "lead", "records")

    def __init__(self) -> None:
        self.encoded: list[bytes] = []
        self.records: list[tuple[int, str, str]] = []
        """``(seq, prev, hash)`` per record, in the order of ``encoded``, once committed."""
        self.error: BaseException | None = None
        self.lead = _closed_gate()
        self.done = _closed_gate()


Committed = tuple[int, str, str]
"""``(seq, prev, hash)`` of a durable record."""


HAND_OVER_AT = 128
"""Records an event loop hands over at once without waiting for the end of its iteration: when a
group woke many coroutines, the committer starts on the first of them while the loop still runs
the rest, so the loop's work and the commit overlap instead of taking turns."""

_Waiting = tuple[list[bytes], list[asyncio.Future[Committed]]]
"""Encoded records and, in the same order, the futures their coroutines await."""


class _AsyncCommits:
    """Records of awaiting coroutines, committed in groups by one thread.

    A coroutine appends its encoded record and a future to its event loop's batch; the loop
    hands the batch over at the end of its iteration (the first record of an iteration schedules
    the hand-over) or at :data:`HAND_OVER_AT` records: one thread wake-up per batch, not per
    record. The thread takes everything handed over at once, commits it as one group (shared with
    any threaded callers) and settles each loop's futures with one ``call_soon_threadsafe``. While
    it writes and syncs, new batches pend for the next group.
    """

    def __init__(self, journal: AuditJournal) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._batches: dict[asyncio.AbstractEventLoop, _Waiting] = {}
        """Per event loop, what its coroutines added since its last hand-over (touched by that loop only)."""
        self._pending: dict[asyncio.AbstractEventLoop, _Waiting] = {}
        """Handed over, not yet taken by the thread (under ``_lock``)."""
        self._thread: threading.Thread | None = None
        self._waiting = False
        self._closed = False

    def submit(self, encoded: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Committed]:
        """A future of ``loop`` that the record's ``(seq, prev, hash)`` settles once it is durable."""
        if self._closed:
            raise AuditError(f"the audit journal in {self._journal.directory} is closed")
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = ([], [])
            loop.call_soon(self._hand_over, loop)
        future: asyncio.Future[Committed] = loop.create_future()
        batch[0].append(encoded)
        batch[1].append(future)
        if len(batch[0]) >= HAND_OVER_AT:
            self._hand_over(loop)
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """In ``loop``: give its batch to the thread (or fail it, when the journal closed meanwhile)."""
        batch = self._batches.pop(loop, None)
        if batch is None:  # handed over early, and nothing added since
            return
        encoded, futures = batch
        with self._lock:
            if not self._closed:
                pending = self._pending.get(loop)
                if pending is None:
                    self._pending[loop] = (encoded, futures)
                else:
                    pending[0].extend(encoded)
                    pending[1].extend(futures)
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="ricecoder-audit-commits", daemon=True)
                    self._thread.start()
                elif self._waiting:
                    self._waiting = False
                    self._wake.notify()
                return
        _fail(futures, f"the audit journal in {self._journal.directory} is closed")

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._waiting = True
                    self._wake.wait()
                if not self._pending:
                    return
                pending, self._pending = self._pending, {}
            if len(pending) == 1:
                [(encoded, _)] = pending.values()
            else:
                encoded = list(chain.from_iterable(records for records, _ in pending.values()))
            try:
                committed = self._journal._append_encoded(encoded)
            except Exception as error:  # every caller of the group fails with it
                for loop, (_, futures) in pending.items():
                    _call_soon(loop, _fail, futures, str(error))
                continue
            start = 0
            for loop, (records, futures) in pending.items():
                _call_soon(loop, _settle, futures, committed[start : start + len(records)])
                start += len(records)

    def close(self) -> None:
        """Commit what is pending, end the thread, refuse further records."""
        with self._lock:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()


def _call_soon(loop: asyncio.AbstractEventLoop, settle: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop was closed: nobody waits any more
        loop.call_soon_threadsafe(settle, *args)


def _settle(futures: list[asyncio.Future[Committed]], committed: list[Committed]) -> None:
    for future, outcome in zip(futures, committed, strict=True):
        if not future.cancelled():
            future.set_result(outcome)


def _fail(futures: list[asyncio.Future[Committed]], problem: str) -> None:
    for future in futures:
        if not future.cancelled():
            future.set_exception(AuditError(problem))


@dataclass
class _Tail:
    """What the writer knows about the end of the chain (re-read when another process appended)."""

    seq: int = 0
    hash: str = GENESIS
    end: int = 0
    checkpoints_end: int = 0
    unsigned: list[bytes] = field(default_factory=list)
    """Raw SHA-256 digests of the records after the last checkpoint (the next Merkle tree's leaves)."""
    oldest_unsigned_at: float | None = None
    checkpoint: Checkpoint | None = None


class AuditJournal:
    """Append-only, fsynced, hash-chained audit records with signed checkpoints."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        key: bytes | None = None,
        clock: Clock,
        policy: CheckpointPolicy | None = None,
        fsync: bool = True,
        signing_key: Ed25519Signer | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.signing_key = signing_key
        self.clock = clock
        self.policy = policy or CheckpointPolicy()
        self._fsync = os.fdatasync if fsync else (lambda fd: None)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._group = _Group()
        self._flushing = False
        self._async: _AsyncCommits | None = None
        self._tail = _Tail()
        self._fd = -1
        self._cp_fd = -1
        self._head_fd = -1
        self.recovered_bytes = 0
        """Bytes of a torn final write (a crash mid-append) cut off when the journal was opened."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.signer = Signer(load_key(self.directory, key, create=True))
            self._fd = os.open(self.directory / JOURNAL, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            self._cp_fd = os.open(self.directory / CHECKPOINTS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._head_fd = os.open(self.directory / HEAD, os.O_WRONLY | os.O_CREAT, 0o600)
            with self._process_lock():
                self._recover()
                self._write_head()
        except OSError as error:
            self.close()
            raise AuditError(f"cannot open the audit journal in {self.directory}: {error.strerror}") from None
        except AuditError:
            self.close()
            raise

    # -- appending ----------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return self._tail.seq

    def append(self, fields: Mapping[str, Any]) -> AuditRecord:
        """Sequence, write and fsync one record; returns once it is durable (raises AuditError if not)."""
        [(seq, prev, digest)] = self._append_encoded([encode_fields(fields)])
        return AuditRecord(seq, prev, digest, **fields)

    def append_many(self, batch: Sequence[Mapping[str, Any]]) -> list[AuditRecord]:
        """Sequence, write and fsync ``batch`` in order, in one group commit with any concurrent callers;
        returns once all of it is durable (raises AuditError if not). A background writer that has
        queued many records pays one fsync for them instead of one each."""
        if not batch:
            return []
        committed = self._append_encoded([encode_fields(fields) for fields in batch])
        return [
            AuditRecord(seq, prev, digest, **fields)
            for (seq, prev, digest), fields in zip(committed, batch, strict=True)
        ]

    async def append_async(self, fields: Mapping[str, Any]) -> AuditRecord:
        """:meth:`append` for asyncio code: returns once the record is durable (raises AuditError if
        its group's write failed), without holding a thread while it waits.

        Concurrent coroutines share group commits with each other and with threaded callers; one
        committer thread writes and fsyncs each group and wakes its coroutines with one
        ``call_soon_threadsafe`` per event loop. A cancelled caller's record may still be written
        (it was handed to the journal before the wait)."""
        encoded = encode_fields(fields)
        commits = self._async or self._async_commits()
        seq, prev, digest = await commits.submit(encoded, asyncio.get_running_loop())
        return AuditRecord(seq, prev, digest, **fields)

    def _async_commits(self) -> _AsyncCommits:
        commits = self._async
        if commits is None:
            with self._lock:
                commits = self._async = self._async or _AsyncCommits(self)
        return commits

    def _append_encoded(self, encoded: list[bytes]) -> list[tuple[int, str, str]]:
        """Commit ``encoded`` records in order in one group; ``(seq, prev, hash)`` of each once durable."""
        with self._lock:
            if self._fd < 0:
                raise AuditError(f"the audit journal in {self.directory} is closed")
            group = self._group
            index = len(group.encoded)
            group.encoded.extend(encoded)
            leads_now = index == 0 and not self._flushing
            if leads_now:
                self._flushing = True
                self._group = _Group()
        if leads_now:
            self._lead(group)
        elif index == 0:
            group.lead.acquire()  # the flush before hands over
            with self._lock:
                self._group = _Group()
            self._lead(group)
        else:
            group.done.acquire()
            group.done.release()  # wake the next waiter
        if group.error is not None:
            raise AuditError(f"audit record not written to {self.directory / JOURNAL}: {group.error}")
        return group.records[index : index + len(encoded)]

    def _lead(self, group: _Group) -> None:
        """Commit ``group`` (taken off the open slot), wake its callers, pass the lead on."""
        try:
            self._commit(group)
        except BaseException as error:
            group.error = error
            raise
        finally:
            group.done.release()
            with self._lock:
                self._release()

    def _release(self) -> None:
        """With the lock held, after a flush: the open group's first caller leads, else the journal is idle."""
        if self._group.encoded:
            self._group.lead.release()
        else:
            self._flushing = False
            self._idle.notify_all()

    def _commit(self, group: _Group) -> None:
        try:
            with self._process_lock():
                self._sync_tail()
                tail = self._tail
                data, records, digests = chain_lines(tail.seq, tail.hash, group.encoded)
                _write_all(self._fd, data)
                self._fsync(self._fd)
                group.records = records
                if not tail.unsigned:
                    tail.oldest_unsigned_at = self.clock()
                tail.unsigned.extend(digests)
                tail.seq, tail.hash, tail.end = records[-1][0], records[-1][2], tail.end + len(data)
                self._write_head()
                if self.policy.due(len(tail.unsigned), tail.oldest_unsigned_at, self.clock()):
                    self._checkpoint()
        except (OSError, AuditError) as error:
            self._tail = _Tail(end=-1)  # unknown: re-read from disk before the next write
            group.error = error

    # -- checkpoints --------------------------------------------------------------------------

    def checkpoint_if_due(self, *, force: bool = False) -> Checkpoint | None:
        """Sign the unsigned records when the policy says so (or ``force``); None if nothing to sign."""
        with self._lock:
            while self._flushing:
                self._idle.wait()
            if self._fd < 0:
                return None
            self._flushing = True
        try:
            with self._process_lock():
                self._sync_tail()
                tail = self._tail
                if tail.unsigned and (
                    force or self.policy.due(len(tail.unsigned), tail.oldest_unsigned_at, self.clock())
                ):
                    return self._checkpoint()
                return None
        finally:
            with self._lock:
                self._release()

    def _checkpoint(self) -> Checkpoint:
        tail = self._tail
        checkpoint = make_checkpoint(
            self.signer,
            previous=tail.checkpoint,
            digests=tail.unsigned,
            last_seq=tail.seq,
            end_offset=tail.end,
            now=self.clock(),
            ed25519=self.signing_key,
        )
        line = checkpoint.line()
        _write_all(self._cp_fd, line)
        self._fsync(self._cp_fd)
        tail.checkpoints_end += len(line)
        tail.checkpoint, tail.unsigned, tail.oldest_unsigned_at = checkpoint, [], None
        return checkpoint

    # -- recovery -----------------------------------------------------------------------------

    def _sync_tail(self) -> None:
        tail = self._tail
        if os.fstat(self._fd).st_size != tail.end or os.fstat(self._cp_fd).st_size != tail.checkpoints_end:
            self._recover()

    def _recover(self) -> None:
        """Rebuild the tail from disk: the last checkpoint, then the records after it.

        A final line without its newline is a write torn by a crash; its caller was never told it
        was recorded, so it is cut off (``recovered_bytes``) and the chain continues from the last
        whole record.
        """
        checkpoints = read_checkpoints(self.directory / CHECKPOINTS)
        last = checkpoints[-1] if checkpoints else None
        size = os.fstat(self._fd).st_size
        start = last.end_offset if last is not None else 0
        if size < start:
            raise AuditError(
                f"{self.directory / JOURNAL} is {size} bytes but checkpoint {last.index if last else 0} "
                f"covers {start}: the journal was truncated or replaced; run `ricecoder-otel audit verify`"
            )
        data = os.pread(self._fd, size - start, start)
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            os.ftruncate(self._fd, start + whole)
            self._fsync(self._fd)
            self.recovered_bytes += len(data) - whole
        tail = _Tail(end=start + whole, checkpoints_end=os.fstat(self._cp_fd).st_size, checkpoint=last)
        if last is not None:
            tail.seq, tail.hash = last.last_seq, last.last_hash
        offset = start
        for line in data[:whole].splitlines(keepends=True):
            parts = split_line(line)
            digest = _raw_hash(parts[2]) if parts is not None else None
            if parts is None or digest is None or parts[0] != tail.seq + 1 or parts[1] != tail.hash:
                raise AuditError(
                    f"{self.directory / JOURNAL}: the line at byte {offset} is not record {tail.seq + 1} of the "
                    "chain; the journal is corrupt or was altered (run `ricecoder-otel audit verify`)"
                )
            tail.seq, tail.hash = parts[0], parts[2]
            tail.unsigned.append(digest)
            offset += len(line)
        if tail.unsigned:
            tail.oldest_unsigned_at = self.clock()
        self._tail = tail

    def _write_head(self) -> None:
        tail, signer = self._tail, self.signer
        message = head_bytes(tail.seq, tail.hash)
        head = (
            f'{{"seq": {tail.seq}, "hash": "{tail.hash}", "key_id": "{signer.key_id}", "mac": "{signer.mac(message)}"'
        )
        if self.signing_key is not None:
            head += f', "sig_key_id": "{self.signing_key.key_id}", "sig": "{self.signing_key.sign(message)}"'
        head += "}"
        os.pwrite(self._head_fd, head.encode().ljust(HEAD_SIZE - 1) + b"\n", 0)

    def _process_lock(self) -> _Flock:
        return _Flock(self._fd)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Sign what is unsigned, then close the files (idempotent)."""
        with self._lock:
            commits = self._async = self._async or _AsyncCommits(self)
        commits.close()  # commits what coroutines handed over, ends its thread, refuses more
        if self._fd >= 0 and self._tail.unsigned:
            # Failing that, verification reports the unsigned tail; the records themselves are durable.
            with contextlib.suppress(OSError, AuditError):
                self.checkpoint_if_due(force=True)
        with self._lock:
            while self._flushing:
                self._idle.wait()
            self._close_files()

    def after_fork(self) -> None:
        """In a forked child: own file descriptions (a shared one would share the flock) and locks."""
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._group, self._flushing, self._async = _Group(), False, None
        self._close_files()
        self._fd = os.open(self.directory / JOURNAL, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._cp_fd = os.open(self.directory / CHECKPOINTS, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._head_fd = os.open(self.directory / HEAD, os.O_WRONLY | os.O_CREAT, 0o600)
        self._tail = _Tail(end=-1)

    def _close_files(self) -> None:
        for name in ("_fd", "_cp_fd", "_head_fd"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


class _Flock:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


def _raw_hash(text: str) -> bytes | None:
    """The digest a stored hash spells, or None when it is not 64 hex digits."""
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        return None
    return digest if len(digest) == 32 else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
