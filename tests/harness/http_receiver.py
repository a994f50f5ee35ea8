"""A loopback HTTP server that records every request and answers from a script.

Stands in for SaaS endpoints (Slack, PagerDuty, OpsGenie, webhooks): tests check the exact
request (method, path, headers, body) and choose each answer (status, headers, body, delay).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 202
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer()
        self.script: deque[Answer] = deque()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                                     body))  # fmt: skip
                    answer = receiver.script.popleft() if receiver.script else receiver.default
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body.encode()
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, *answers: Answer) -> None:
        with self._lock:
            self.script.extend(answers)

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.received()
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests within {timeout}s, got {len(got)}")
            time.sleep(0.01)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
