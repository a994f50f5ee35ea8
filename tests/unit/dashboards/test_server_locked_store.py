"""A store another connection holds an exclusive lock on: the live page says why it shows nothing
(pushed on the stream, on every panel), and shows the stored data again once the lock is released."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.store.records import LogRow
from ricecoder_otel.store.sqlite import SQLiteStore

LOCKED = "is locked by another connection (an exclusive lock"


def _snapshot(server: DashboardServer) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "api/snapshot/anomalies-alerts", timeout=30) as response:
        snapshot: dict[str, Any] = json.loads(response.read())
    return snapshot


def _stream_until(server: DashboardServer, needle: bytes, deadline_s: float) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=deadline_s) as sock:
        sock.sendall(b"GET /api/stream/anomalies-alerts HTTP/1.1\r\nHost: x\r\n\r\n")
        data, end = b"", time.monotonic() + deadline_s
        while needle not in data:
            if time.monotonic() > end:
                raise AssertionError(f"{needle!r} not pushed within {deadline_s} s: {data[-2000:]!r}")
            data += sock.recv(65536)
    return data


def test_a_locked_store_is_named_on_the_page_and_read_again_once_released(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.db"
    writer = SQLiteStore(path)
    writer.write_logs([LogRow(time_ns=time.time_ns(), event_name="ricecoder.alert", body="stored-before-lock")])
    writer.close()
    reader = SQLiteStore(path, read_only=True, create=False, busy_timeout_ms=100)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    server = DashboardServer(reader, builtin_dashboards(), poll_interval_s=0.05).start()
    try:
        pushed = _stream_until(server, LOCKED.encode(), 30)
        assert f"store {path} {LOCKED}".encode() in pushed
        snapshot = _snapshot(server)
        assert LOCKED in snapshot["error"] and "cannot be read until that lock is released" in snapshot["error"]
        assert {panel["kind"] for panel in snapshot["panels"].values()} == {"error"}
        assert all(LOCKED in panel["error"] for panel in snapshot["panels"].values())
        locker.execute("ROLLBACK")
        locker.close()
        end = time.monotonic() + 30
        while "error" in (snapshot := _snapshot(server)) and time.monotonic() < end:
            time.sleep(0.05)
        assert "error" not in snapshot
        assert "stored-before-lock" in json.dumps(snapshot["panels"]["alerts"])
    finally:
        server.stop()
        reader.close()
