"""Jaeger v2 (an OTLP-native trace backend built on the collector) on loopback, for tests.

The binary is built by ``.ci/steps/jaeger.sh`` from the Go module proxy and cached under
``~/.cache/ricecoder/jaeger/<version>/jaeger`` (``$RICECODER_CACHE_DIR`` moves the root, as for
our collector). ``start_jaeger`` runs it on collector-config/backends/jaeger.yaml with free
ports (in-memory storage), polls its query API until ready and stops it by PID; a start that
lost a port to another process is retried with fresh ports. The query
helpers read traces back through Jaeger's HTTP APIs: v3 returns OTLP JSON (span names,
attributes, status as sent), v1 is what the Jaeger UI and Grafana's Jaeger datasource use.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ricecoder_otel.collector.layout import config_dir
from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports

VERSION = "v1.76.0"  # the version .ci/steps/jaeger.sh builds by default


def jaeger_binary(version: str = VERSION) -> Path:
    root = Path(os.environ.get("RICECODER_CACHE_DIR") or Path.home() / ".cache" / "ricecoder")
    binary = root / "jaeger" / version / "jaeger"
    if not binary.is_file():
        raise AssertionError(f"Jaeger {version} is not built yet (expected {binary}): run `bash .ci/steps/jaeger.sh`")
    return binary


@dataclass
class JaegerServer:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log_path: Path

    @property
    def otlp_http(self) -> str:
        return f"http://{self.env['JAEGER_OTLP_HTTP_ENDPOINT']}"

    @property
    def query_url(self) -> str:
        return f"http://{self.env['JAEGER_QUERY_HTTP_ENDPOINT']}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, **params: str | int) -> tuple[int, Any]:
        """GET a query API path; (status, JSON body), 404 included."""
        url = f"{self.query_url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def services(self) -> list[str]:
        status, body = self.get("/api/services")
        assert status == 200, body
        return list(body.get("data") or [])

    def trace_otlp(self, trace_id: str) -> list[dict[str, Any]] | None:
        """``GET /api/v3/traces/{id}``: the trace's OTLP ``resourceSpans``, or None while Jaeger has none."""
        status, body = self.get(f"/api/v3/traces/{trace_id}")
        if status == 404:
            return None
        assert status == 200, body
        spans: list[dict[str, Any]] = body["result"]["resourceSpans"]
        return spans

    def trace_v1(self, trace_id: str) -> dict[str, Any] | None:
        """``GET /api/traces/{id}``: the trace as the Jaeger UI shows it, or None while Jaeger has none."""
        status, body = self.get(f"/api/traces/{trace_id}")
        if status == 404:
            return None
        assert status == 200, body
        [trace] = body["data"]
        result: dict[str, Any] = trace
        return result

    def find_traces(self, service: str, limit: int = 100_000, **params: str | int) -> list[dict[str, Any]]:
        """``GET /api/traces?service=...``: the search the UI runs (default lookback: the last hour)."""
        status, body = self.get("/api/traces", service=service, limit=limit, **params)
        assert status == 200, body
        return list(body.get("data") or [])

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_jaeger(workdir: Path, ready_timeout_s: float = 60.0) -> JaegerServer:
    """Jaeger v2 with in-memory storage on free loopback ports, ready to receive and be queried."""
    binary = jaeger_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    return start_with_fresh_ports(lambda attempt: _start(binary, workdir, attempt, ready_timeout_s), "Jaeger")


def _start(binary: Path, workdir: Path, attempt: int, ready_timeout_s: float) -> JaegerServer:
    env = {
        "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "JAEGER_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{free_port()}",
        "JAEGER_QUERY_HTTP_ENDPOINT": f"127.0.0.1:{free_port()}",
        "JAEGER_QUERY_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "JAEGER_TELEMETRY_HOST": "127.0.0.1",
        "JAEGER_TELEMETRY_PORT": str(free_port()),
    }
    log_path = workdir / f"jaeger-{attempt}.log"
    config = config_dir() / "backends" / "jaeger.yaml"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(binary), f"--config={config}"],
            env={**os.environ, **env},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = JaegerServer(process, env, log_path)
    deadline = time.monotonic() + ready_timeout_s
    while True:
        if process.poll() is not None:
            if bind_failed(server.log()):
                raise PortTaken("Jaeger", server.log())
            raise AssertionError(f"Jaeger exited with {process.returncode} during start-up:\n{server.log()[-4000:]}")
        try:
            server.services()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"Jaeger not ready in {ready_timeout_s:.0f}s:\n{server.log()[-4000:]}") from None
            time.sleep(0.1)
