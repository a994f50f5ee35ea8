"""The live dashboard server: standard-library HTTP plus server-sent events.

One watcher thread asks the store for its newest metric point and log record every
``poll_interval`` (200 ms; one indexed ``MAX(id)`` each); when either moved, every open
stream gets a fresh snapshot, so a stored point is on screen well within a second. Viewers with
the same dashboard, variables and range share one evaluation per store change. A viewer whose
dashboard has not changed still gets a new snapshot every ``refresh`` so the window slides and
report panels (whose tables the watcher does not follow) are read again; a dashboard that sets no
``refresh`` of its own refreshes every ``default_refresh`` (``dashboards.refresh_interval``).

Listens on loopback unless told otherwise; any other interface requires a token (``?token=`` or
``Authorization: Bearer``), compared in constant time. At most ``max_viewers`` streams are open
at once; more get a 503 with the reason. Store failures are shown on the page, never raised.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ricecoder_otel.config.duration import parse_duration
from ricecoder_otel.dashboards.model import Dashboard
from ricecoder_otel.dashboards.render_html import LIVE_CSP, STATIC_FILES, live_html, static_text
from ricecoder_otel.dashboards.snapshot import take_snapshot
from ricecoder_otel.store.errors import StoreError
from ricecoder_otel.store.sql import SqlStore

POLL_INTERVAL_S = 0.2
KEEPALIVE_S = 15.0
MAX_VIEWERS = 64
MIN_RANGE_S = 60
MAX_RANGE_S = 90 * 86_400
_CACHE_SIZE = 32
_LATEST_SQL = "SELECT (SELECT MAX(id) FROM metric_points), (SELECT MAX(id) FROM logs)"


class DashboardServerError(Exception):
    """The server cannot start as configured (a public interface without a token, a port in use)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Watcher:
    """Counts store changes: ``version`` moves when the newest metric point or log record does."""

    def __init__(self, store: SqlStore, interval_s: float) -> None:
        self.store = store
        self.interval_s = interval_s
        self.version = 0
        self.problem: str | None = None
        self.changed = threading.Condition()
        self.closing = False
        self._latest: tuple[Any, ...] | None = None
        self._thread = threading.Thread(target=self._run, name="ricecoder-dashboards-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self.closing:
            self.poll()
            with self.changed:
                self.changed.wait(self.interval_s)

    def poll(self) -> None:
        try:
            with self.store._transaction() as cur:
                cur.execute(self.store._sql(_LATEST_SQL))
                latest = tuple(cur.fetchone() or ())
            problem = None
        except StoreError as exc:
            latest, problem = self._latest or (), str(exc)
        if latest != self._latest or problem != self.problem:
            with self.changed:
                self._latest, self.problem = latest, problem
                self.version += 1
                self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class DashboardServer:
    """Serves ``dashboards`` from ``store``; ``start()`` binds and returns, ``stop()`` closes every stream."""

    def __init__(
        self,
        store: SqlStore,
        dashboards: Mapping[str, Dashboard],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
        max_viewers: int = MAX_VIEWERS,
        clock: Callable[[], int] = time.time_ns,
        default_refresh: timedelta | None = None,
    ) -> None:
        if not is_loopback(host) and not token:
            raise DashboardServerError(
                f"listening on {host} exposes telemetry beyond this machine: set a token "
                "(--token or RICECODER_DASHBOARD_TOKEN; dashboards.token in the config) or use 127.0.0.1"
            )
        self.store = store
        self.dashboards = {uid: d.with_default_refresh(default_refresh) for uid, d in dashboards.items()}
        self.host, self.port, self.token = host, port, token
        self.max_viewers = max_viewers
        self.clock = clock
        self.viewers = 0
        self._viewers_lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.watcher = _Watcher(store, poll_interval_s)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> DashboardServer:
        handler = type("Handler", (_Handler,), {"app": self})
        try:
            self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        except OSError as exc:
            raise DashboardServerError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.watcher.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ricecoder-dashboards", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.watcher.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- shared work -------------------------------------------------------------------------------

    def snapshot_json(self, uid: str, variables: Mapping[str, str], range_s: int | None, version: int) -> bytes:
        """The snapshot for these parameters at this store version, evaluated once for every viewer."""
        dashboard = self.dashboards[uid]
        span = range_s if range_s is not None else int(dashboard.time_range.total_seconds())
        now_s = self.clock() // 1_000_000_000
        slide = max(1, int(dashboard.refresh.total_seconds()))
        key = (uid, tuple(sorted(variables.items())), span, version, now_s // slide)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        snapshot = take_snapshot(self.store, dashboard, variables=variables, range_ns=span * 1_000_000_000,
                                 clock=self.clock)  # fmt: skip
        if self.watcher.problem:
            snapshot["error"] = self.watcher.problem
        body = json.dumps(snapshot, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        with self._cache_lock:
            self._cache[key] = body
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return body

    def admit(self) -> bool:
        with self._viewers_lock:
            if self.viewers >= self.max_viewers:
                return False
            self.viewers += 1
            return True

    def leave(self) -> None:
        with self._viewers_lock:
            self.viewers -= 1


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    app: DashboardServer
    server_version = "ricecoder-otel-dashboards"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would flood the host application's stderr."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path == "/healthz":
            return self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        if not self._authorized(query):
            return self._problem(HTTPStatus.UNAUTHORIZED, "a token is required: add ?token=... to the address")
        try:
            if parts.path == "/":
                return self._index(query)
            if parts.path.startswith("/static/"):
                return self._static(parts.path.removeprefix("/static/"))
            if parts.path == "/api/dashboards":
                listing = [{"uid": d.uid, "title": d.title, "tags": d.tags} for d in self.app.dashboards.values()]
                return self._json(HTTPStatus.OK, listing)
            for prefix, action in (
                ("/d/", self._page),
                ("/api/snapshot/", self._snapshot),
                ("/api/stream/", self._stream),
            ):
                if parts.path.startswith(prefix):
                    uid = parts.path.removeprefix(prefix)
                    if uid not in self.app.dashboards:
                        return self._problem(HTTPStatus.NOT_FOUND, f"no dashboard {uid!r}")
                    return action(uid, *self._params(uid, query))
        except _BadRequest as exc:
            return self._problem(HTTPStatus.BAD_REQUEST, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            return None
        return self._problem(HTTPStatus.NOT_FOUND, "not found")

    # -- helpers --------------------------------------------------------------------------------------

    def _authorized(self, query: Mapping[str, str]) -> bool:
        expected = self.app.token
        if not expected:
            return True
        header = self.headers.get("Authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else query.get("token", "")
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

    def _params(self, uid: str, query: Mapping[str, str]) -> tuple[dict[str, str], int | None]:
        dashboard = self.app.dashboards[uid]
        names = {v.name for v in dashboard.variables}
        variables = {k[4:]: v for k, v in query.items() if k.startswith("var-") and k[4:] in names}
        range_s = None
        if query.get("range"):
            try:
                range_s = int(parse_duration(query["range"]).total_seconds())
            except ValueError:
                raise _BadRequest(f"range: expected a duration like 1h, got {query['range'][:40]!r}") from None
            if not MIN_RANGE_S <= range_s <= MAX_RANGE_S:
                raise _BadRequest(f"range: expected between {MIN_RANGE_S // 60}m and {MAX_RANGE_S // 86_400}d")
        return variables, range_s

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: Mapping[str, str] = {}) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _problem(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": message})

    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            return self._problem(HTTPStatus.NOT_FOUND, "not found")
        self._send(HTTPStatus.OK, static_text(name).encode("utf-8"), STATIC_FILES[name])

    def _index(self, query: Mapping[str, str]) -> None:
        suffix = f"?token={quote(query['token'])}" if query.get("token") else ""
        items = "".join(
            f'<li><a href="/d/{quote(d.uid)}{suffix}">{html.escape(d.title)}</a> {html.escape(d.description)}</li>'
            for d in self.app.dashboards.values()
        )
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ricecoder-otel dashboards</title>'
            f'<link rel="stylesheet" href="/static/dashboard.css"></head><body><h1>Dashboards</h1><ul>{items}</ul>'
            "</body></html>"
        )
        self._send(
            HTTPStatus.OK, page.encode("utf-8"), "text/html; charset=utf-8", {"Content-Security-Policy": LIVE_CSP}
        )

    def _page(self, uid: str, variables: dict[str, str], range_s: int | None) -> None:
        body = self.app.snapshot_json(uid, variables, range_s, self.app.watcher.version)
        snapshot = json.loads(body)
        page = live_html(snapshot, f"/api/stream/{quote(uid)}")
        self._send(
            HTTPStatus.OK, page.encode("utf-8"), "text/html; charset=utf-8", {"Content-Security-Policy": LIVE_CSP}
        )

    def _snapshot(self, uid: str, variables: dict[str, str], range_s: int | None) -> None:
        body = self.app.snapshot_json(uid, variables, range_s, self.app.watcher.version)
        self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")

    def _stream(self, uid: str, variables: dict[str, str], range_s: int | None) -> None:
        if not self.app.admit():
            return self._problem(HTTPStatus.SERVICE_UNAVAILABLE,
                                 f"{self.app.max_viewers} viewers are connected already; try again later")  # fmt: skip
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            self.close_connection = True
            self._follow(uid, variables, range_s)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        finally:
            self.app.leave()

    def _follow(self, uid: str, variables: dict[str, str], range_s: int | None) -> None:
        watcher = self.app.watcher
        refresh_s = max(1.0, self.app.dashboards[uid].refresh.total_seconds())
        sent_version, last_sent, last_write = -1, 0.0, time.monotonic()
        while not watcher.closing:
            version = watcher.version
            now = time.monotonic()
            if version != sent_version or now - last_sent >= refresh_s:
                body = self.app.snapshot_json(uid, variables, range_s, version)
                self.wfile.write(b"event: snapshot\ndata: " + body + b"\n\n")
                self.wfile.flush()
                sent_version, last_sent, last_write = version, now, now
            elif now - last_write >= KEEPALIVE_S:
                self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
                last_write = now
            with watcher.changed:
                if watcher.version == sent_version and not watcher.closing:
                    watcher.changed.wait(min(refresh_s, KEEPALIVE_S))
