"""One database connection per process, shared by threads under a lock, reopened after fork.

A connection inherited through ``fork()`` belongs to the parent: the child must never use
or close it (SQLite forbids carrying a connection across fork; psycopg refuses to finish a
connection made by another process). The child keeps inherited connections referenced, so
they are never finalised, and opens its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar


class _Closeable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closeable)

_SLOTS: weakref.WeakSet[ConnectionSlot[Any]] = weakref.WeakSet()
_INHERITED: list[object] = []


class ConnectionSlot(Generic[C]):
    """Lazily opens a connection with ``opener`` and hands it to one thread at a time."""

    def __init__(self, opener: Callable[[], C]) -> None:
        self._opener = opener
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._conn: C | None = None
        _SLOTS.add(self)

    @contextmanager
    def use(self) -> Iterator[C]:
        """Yield this process's connection, opening it first if needed."""
        if self._pid != os.getpid():
            self.after_fork()
        with self._lock:
            if self._conn is None:
                self._conn = self._opener()
            yield self._conn

    def discard(self) -> None:
        """Close the current connection (after it failed) so the next ``use`` reopens."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(Exception):  # a broken connection may fail to close
                    conn.close()

    def close(self) -> None:
        if self._pid != os.getpid():
            self.after_fork()
            return
        self.discard()

    def after_fork(self) -> None:
        """In a child process: forget the parent's connection and lock without touching them."""
        self._lock = threading.RLock()
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None
        self._pid = os.getpid()


def _reset_all_after_fork() -> None:
    for slot in list(_SLOTS):
        slot.after_fork()


os.register_at_fork(after_in_child=_reset_all_after_fork)
