"""The benchmark's application: one gauge, set over HTTP, run under ``opentelemetry-instrument``.

``POST /level?trial=N&value=X`` sets ``bench.level`` (unit ``1``) for the series ``trial=N``;
the response is sent after the gauge holds the value. The distribution's alerting loop reads
it in-process; Prometheus scrapes the SDK's Prometheus exporter (``OTEL_METRICS_EXPORTER``).
"""

from __future__ import annotations

import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry import metrics

LEVEL = metrics.get_meter("bench").create_gauge("bench.level", unit="1", description="Benchmark level")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
        LEVEL.set(float(query["value"]), {"trial": query["trial"]})
        self._answer(204)

    def do_GET(self) -> None:
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["BENCH_PORT"])), Handler).serve_forever()
