"""Loopback ports for the servers tests start, and start-up that survives a port taken meanwhile.

A port picked free can be taken by another process before the server binds it (on a shared CI
machine outgoing connections alone cycle through the same ephemeral range). ``free_port`` makes
that rare: the port it returns is left in TIME_WAIT, which keeps the kernel from handing it to
any other ``bind(0)`` or outgoing connection for a minute, while a server binding it with
SO_REUSEADDR (Go's net package, PostgreSQL, Python's socketserver and asyncio all do) still can;
and it never returns the same port twice in one test process. ``start_with_fresh_ports`` makes it
harmless: an attempt that fails with "address already in use" is retried with new ports, a
bounded number of times, and the final error carries every attempt's output.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

START_ATTEMPTS = 5
# "Connection in use" is gunicorn's wording.
_BIND_FAILURE = re.compile(r"address already in use|EADDRINUSE|errno 98|connection in use", re.IGNORECASE)

_handed_out: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A loopback TCP port nobody listens on, reserved against other ``bind(0)`` calls for a minute."""
    for _ in range(100):
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            port: int = listener.getsockname()[1]
            with socket.create_connection(("127.0.0.1", port)):
                accepted, _ = listener.accept()
                accepted.close()  # our side closes first, so its end of the connection holds the port in TIME_WAIT
        with _lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise AssertionError("no loopback port that this test process has not handed out already in 100 tries")


def retire(port: int) -> None:
    """Never hand ``port`` out (another process holds it, or addresses naming it are being rewritten)."""
    with _lock:
        _handed_out.add(port)


def loopback() -> str:
    """``127.0.0.1:<free_port()>``."""
    return f"127.0.0.1:{free_port()}"


def bind_failed(output: str) -> bool:
    """Whether a server's output says a port it was given was already in use."""
    return _BIND_FAILURE.search(output) is not None


def taken_ports(output: str) -> set[int]:
    """The ports named on the lines of ``output`` that report "address already in use"."""
    address = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\]):(\d{1,5})\b")
    return {int(port) for line in output.splitlines() if bind_failed(line) for port in address.findall(line)}


class PortTaken(Exception):
    """One start-up attempt lost a port to another process; ``output`` is what the server said."""

    def __init__(self, what: str, output: str) -> None:
        super().__init__(f"{what}: a port it was given was already in use:\n{output[-3000:]}")
        self.what = what
        self.output = output


def start_with_fresh_ports(start: Callable[[int], T], what: str, attempts: int = START_ATTEMPTS) -> T:
    """Call ``start(attempt)`` (which picks its ports anew each call) until it raises no PortTaken.

    After ``attempts`` failures the AssertionError shows each attempt's output.
    """
    failures: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            return start(attempt)
        except PortTaken as taken:
            failures.append(f"--- attempt {attempt} ---\n{taken.output[-3000:]}")
    raise AssertionError(
        f"{what} could not bind its ports in {attempts} attempts, each with fresh ports:\n" + "\n".join(failures)
    )
