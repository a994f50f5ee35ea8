"""Dashboard queries and the live server on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest

from ricecoder_otel.dashboards import queries
from ricecoder_otel.dashboards.builtin import builtin_dashboards, service_overview
from ricecoder_otel.dashboards.queries import MetricSource
from ricecoder_otel.dashboards.server import DashboardServer
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store import Store, open_store
from ricecoder_otel.store.records import MetricPoint
from ricecoder_otel.store.sql import SqlStore
from tests.harness.postgres import start_postgres, stop_postgres
from tests.integration.store.conftest import StoreFactory
from tests.unit.dashboards.support import BOUNDS, histogram_point

INTERVAL_S = 30
DAY_S = 86_400
END_S = 1_800_000_000.0
ROUTES = ("/orders", "/pay", "/products")
DURATION = "http.server.request.duration"
ERRORS = "ricecoder.http.server.errors"


def _day_of_points(restart_at: int) -> list[MetricPoint]:
    """A day of cumulative RED points every 30 s for three routes; /pay's process restarts at ``restart_at``."""
    counts = {r: [0] * (len(BOUNDS) + 1) for r in ROUTES}
    errors = dict.fromkeys(ROUTES, 0.0)
    points = []
    for i in range(DAY_S // INTERVAL_S + 1):
        t = END_S - DAY_S + i * INTERVAL_S
        for j, route in enumerate(ROUTES):
            if route == "/pay" and i == restart_at:
                counts[route], errors[route] = [0] * (len(BOUNDS) + 1), 0.0
            counts[route][1 + (i * (j + 1)) % 9] += 1 + (i + j) % 4
            errors[route] += (i % (5 + j) == 0) * 1.0
            points.append(histogram_point(t, list(counts[route]), route=route, total=0.04 * sum(counts[route])))
            error = MetricPoint(time_ns=int(t * 1e9), name=ERRORS, kind="counter", unit="{error}",
                                attributes={"http.route": route}, value=errors[route], service_name="shop")  # fmt: skip
            points.append(error)
    return points


def _snapshot(store: SqlStore) -> dict[str, object]:
    return take_snapshot(store, service_overview(), range_ns=DAY_S * 10**9, end_ns=int(END_S * 1e9), max_points=96)


def test_a_long_range_reads_only_the_step_edges_and_agrees_with_reading_every_point(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    assert isinstance(store, SqlStore)
    store.write_metric_points(_day_of_points(restart_at=1234))
    # 96 steps of 15 min; points every 30 s: each step is read 4 intervals (2 min) deep at either edge.
    assert MetricSource(store).edge_ns(DURATION) == 120 * 10**9
    edges = _snapshot(store)
    monkeypatch.setattr(queries, "MIN_EDGE_NS", DAY_S * 10**9)  # edges as wide as the steps: every point read
    everything = _snapshot(store)
    assert edges["panels"] == everything["panels"]
    panels = everything["panels"]
    assert isinstance(panels, dict)
    assert [row[0] for row in panels["routes"]["rows"]] == list(ROUTES)
    assert all(value is not None and value > 0 for row in panels["routes"]["rows"] for value in row[1:])
    latency = panels["latency"]["series"]
    assert [s["label"] for s in latency] == ["p50", "p95", "p99"]
    assert sum(v is not None for v in latency[2]["values"]) == 96
    assert panels["rate"]["value"] > 0 and len(panels["rate"]["values"]) > 40


def _stream(server: DashboardServer, uid: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"GET /api/stream/{uid}?range=15m HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def _next_snapshot(sock: socket.socket, buffer: bytearray, deadline: float) -> dict[str, object]:
    """The next ``event: snapshot`` on the stream, read until ``deadline`` (monotonic seconds)."""
    while True:
        start = buffer.find(b"event: snapshot\ndata: ")
        end = buffer.find(b"\n\n", start) if start >= 0 else -1
        if end >= 0:
            data = bytes(buffer[start + len(b"event: snapshot\ndata: ") : end])
            del buffer[: end + 2]
            return json.loads(data)  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError("no snapshot before the deadline")
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        buffer.extend(chunk)


@pytest.fixture
def reader(make_store: StoreFactory) -> Iterator[tuple[Store, Store]]:
    """A writing store and, on the same location, a read-only one as ``dashboard serve`` opens it."""
    writer = make_store()
    writer.schema_version()
    yield writer, open_store(writer.location, read_only=True)


def test_the_live_server_pushes_a_point_stored_in_either_backend_within_a_second(
    reader: tuple[Store, Store],
) -> None:
    writer, read_only = reader
    now = time.time()
    writer.write_metric_points([histogram_point(now - 20, [0] * 15), histogram_point(now - 10, [0, 4] + [0] * 13)])
    assert isinstance(read_only, SqlStore)
    server = DashboardServer(read_only, builtin_dashboards()).start()
    sock = _stream(server, "service-overview")
    try:
        buffer = bytearray()
        first = _next_snapshot(sock, buffer, time.monotonic() + 10)
        assert [row[0] for row in first["panels"]["routes"]["rows"]] == ["/orders"]  # type: ignore[index]
        writer.write_metric_points([histogram_point(now - 10, [0] * 15, route="/live"),
                                    histogram_point(time.time(), [0, 0, 3] + [0] * 12, route="/live")])  # fmt: skip
        stored = time.monotonic()
        while True:
            snapshot = _next_snapshot(sock, buffer, stored + 1.0)
            routes = {row[0]: row for row in snapshot["panels"]["routes"]["rows"]}  # type: ignore[index]
            if "/live" in routes:
                break
        assert routes["/live"][1] > 0  # its rate: 3 requests since the series' first point
        assert snapshot["options"]["route"] == ["/live", "/orders"]  # type: ignore[index]
    finally:
        sock.close()
        server.stop()
        read_only.close()


def test_postgresql_going_away_is_a_message_on_every_stream_and_the_server_stays_up() -> None:
    server_pg = start_postgres()  # its own: this test stops it
    try:
        location = server_pg.create_database("dashboards_gone")
        writer = open_store(location)
        writer.write_metric_points([histogram_point(time.time() - 10, [0] * 15),
                                    histogram_point(time.time(), [0, 4] + [0] * 13)])  # fmt: skip
        read_only = open_store(location, read_only=True)
        assert isinstance(read_only, SqlStore)
        server = DashboardServer(read_only, builtin_dashboards()).start()
        sock = _stream(server, "service-overview")
        try:
            buffer = bytearray()
            first = _next_snapshot(sock, buffer, time.monotonic() + 10)
            assert "error" not in first and first["panels"]["routes"]["rows"]  # type: ignore[index]
            writer.close()
            stop_postgres(server_pg)
            while True:  # the watcher notices at its next poll (0.2 s) and pushes the problem
                snapshot = _next_snapshot(sock, buffer, time.monotonic() + 10)
                if "error" in snapshot:
                    break
            assert "PostgreSQL" in str(snapshot["error"])
            panels = snapshot["panels"]
            assert isinstance(panels, dict)
            assert all(p["kind"] == "error" and "PostgreSQL" in p["error"] for p in panels.values())
            with urllib.request.urlopen(server.url + "healthz", timeout=10) as response:
                assert response.status == 200
        finally:
            sock.close()
            server.stop()
            read_only.close()
    finally:
        stop_postgres(server_pg)
