"""The live server over HTTP: tokens, bad requests, the viewer bound and server-sent events."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.server import DashboardServer, DashboardServerError
from ricecoder_otel.store.records import LogRow
from ricecoder_otel.store.sqlite import SQLiteStore


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def server(store: SQLiteStore) -> Iterator[DashboardServer]:
    running = DashboardServer(store, builtin_dashboards(), token="s3cret", max_viewers=1).start()
    yield running
    running.stop()


def test_a_public_interface_needs_a_token() -> None:
    with pytest.raises(DashboardServerError, match="set a token"):
        DashboardServer(None, {}, host="0.0.0.0")  # type: ignore[arg-type]


def test_token_pages_api_and_clear_errors(server: DashboardServer) -> None:
    base = server.url
    assert _get(base + "api/dashboards")[0] == 401
    assert _get(base + "api/dashboards?token=wrong")[0] == 401
    status, body = _get(base + "api/dashboards", {"Authorization": "Bearer s3cret"})
    assert status == 200 and next(d["uid"] for d in json.loads(body)) == "service-overview"
    status, body = _get(base + "d/service-overview?token=s3cret")
    assert status == 200 and b'id="rc-snapshot"' in body
    assert _get(base + "healthz")[0] == 200
    status, body = _get(base + "d/nope?token=s3cret")
    assert status == 404 and json.loads(body) == {"error": "no dashboard 'nope'"}
    status, body = _get(base + "api/snapshot/system?token=s3cret&range=banana")
    assert status == 400 and "expected a duration" in json.loads(body)["error"]
    status, body = _get(base + "api/snapshot/system?token=s3cret&range=1000d")
    assert status == 400 and "between 1m and 90d" in json.loads(body)["error"]
    status, body = _get(base + "static/uplot.iife.min.js?token=s3cret")
    assert status == 200 and body.startswith(b"/*! https://github.com/leeoniya/uPlot (v1.6.32) */")


def _open_stream(server: DashboardServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"GET /api/stream/anomalies-alerts?token=s3cret HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock


def _read_until(sock: socket.socket, needle: bytes, deadline_s: float) -> bytes:
    data, end = b"", time.monotonic() + deadline_s
    while needle not in data:
        if time.monotonic() > end:
            raise AssertionError(f"{needle!r} not received within {deadline_s} s")
        data += sock.recv(65536)
    return data


def test_stream_pushes_a_snapshot_on_every_store_change_and_bounds_viewers(
    server: DashboardServer, store: SQLiteStore
) -> None:
    first = _open_stream(server)
    try:
        assert b"text/event-stream" in _read_until(first, b"event: snapshot", 30)
        status, body = _get(server.url + "api/stream/system?token=s3cret")
        assert status == 503 and "1 viewers are connected already" in json.loads(body)["error"]
        store.write_logs([LogRow(time_ns=time.time_ns(), event_name="ricecoder.alert", body="</script>boom")])
        assert b"</script>boom" in _read_until(first, b"boom", 30)
    finally:
        first.close()
    end = time.monotonic() + 30
    while server.viewers and time.monotonic() < end:  # the server notices the closed stream at its next write
        store.write_logs([LogRow(time_ns=time.time_ns(), body="tick")])
        time.sleep(0.05)
    assert server.viewers == 0
