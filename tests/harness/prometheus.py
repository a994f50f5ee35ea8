"""Debian's Prometheus on loopback, scraping the targets a test gives it (a start that lost its
port to another process is retried on a fresh one)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports


@dataclass
class PrometheusServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, expr: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Poll until ``expr`` returns data: the first scrapes take a few seconds."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"Prometheus returned nothing for {expr!r} within {timeout_s:.0f}s")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_prometheus(workdir: Path, targets: list[str], scrape_interval: str = "1s") -> PrometheusServer:
    binary = shutil.which("prometheus")
    if binary is None:
        raise AssertionError(
            "Debian's prometheus is not installed: run .ci/steps/prometheus.sh (apt-get install prometheus)"
        )
    return start_with_fresh_ports(lambda _: _start(binary, workdir, targets, scrape_interval), "Prometheus")


def _start(binary: str, workdir: Path, targets: list[str], scrape_interval: str) -> PrometheusServer:
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: {scrape_interval}\n  evaluation_interval: {scrape_interval}\n"
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        f"      - targets: {json.dumps(targets)}\n"
    )
    log_path = workdir / "prometheus.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PrometheusServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=1):
                return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                output = log_path.read_text(errors="replace")
                if bind_failed(output):
                    raise PortTaken("Prometheus", output) from None
                raise AssertionError(f"Prometheus did not become ready in 60s:\n{output[-2000:]}") from None
            time.sleep(0.05)
