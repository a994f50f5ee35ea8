"""Small helpers shared by CLI commands."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any


def free_port() -> int:
    """A TCP port free on loopback right now (another process may still take it before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def progress(message: str) -> None:
    """Progress goes to stderr so ``--json`` output on stdout stays parseable."""
    print(f"[ricecoder-otel] {message}", file=sys.stderr, flush=True)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))
