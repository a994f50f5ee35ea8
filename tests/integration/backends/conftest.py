"""The shipped agent -> gateway path in front of real backends, on loopback.

One gateway instance runs both layers (its sampling peer is itself: the "one deployment" mode
of docs/deployment.md) with every trace kept, so a test can expect each trace it sent in the
backend. The backends are wired in only through the variables the shipped gateway.yaml reads:
``GATEWAY_BACKEND_OTLP_ENDPOINT`` (traces and logs, OTLP/HTTP) and
``GATEWAY_PROMETHEUS_REMOTE_WRITE_URL`` (metrics).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from tests.harness.collector import CollectorHandle, agent_env, gateway_env, shipped, start_collector
from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports
from tests.harness.prometheus import PrometheusServer


@dataclass
class CollectorPath:
    """agent -> gateway (both layers) with the variables they were started with."""

    agent: CollectorHandle
    gateway: CollectorHandle

    @property
    def agent_grpc(self) -> str:
        return f"http://{self.agent.env['AGENT_OTLP_GRPC_ENDPOINT']}"

    @property
    def agent_http(self) -> str:
        return f"http://{self.agent.env['AGENT_OTLP_HTTP_ENDPOINT']}"

    @property
    def gateway_grpc(self) -> str:
        return f"http://{self.gateway.env['GATEWAY_OTLP_GRPC_ENDPOINT']}"

    @property
    def gateway_out(self) -> Path:
        return Path(self.gateway.env["GATEWAY_FILE_DIR"])

    def stop(self) -> None:
        for handle in (self.agent, self.gateway):  # upstream first
            handle.stop()


def path_env(
    workdir: Path, *, backend_otlp: str | None = None, remote_write: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(agent, gateway) variables: free ports, every trace kept, decisions after 1 s."""
    gateway = gateway_env(workdir / "gateway", sampling_percentage=100, decision_wait_s=1)
    if backend_otlp is not None:
        gateway["GATEWAY_BACKEND_OTLP_ENDPOINT"] = backend_otlp
    if remote_write is not None:
        gateway["GATEWAY_PROMETHEUS_REMOTE_WRITE_URL"] = remote_write
    agent = agent_env(workdir / "agent", gateway["GATEWAY_OTLP_GRPC_ENDPOINT"])
    return agent, gateway


def start_path(workdir: Path, agent: dict[str, str], gateway: dict[str, str]) -> CollectorPath:
    gateway_handle = start_collector(shipped("gateway.yaml"), gateway, workdir / "gateway", name="gateway")
    try:
        agent_handle = start_collector(shipped("agent.yaml"), agent, workdir / "agent", name="agent")
    except BaseException:
        gateway_handle.stop()
        raise
    return CollectorPath(agent_handle, gateway_handle)


def start_prometheus_receiving(workdir: Path, jobs: dict[str, list[str]], port: int | None = None) -> PrometheusServer:
    """Debian's Prometheus scraping ``jobs`` (name -> targets) every second, with its remote-write receiver on.

    Without ``port`` it picks a free one, and picks again if another process takes it first.
    """
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus is not installed: run .ci/steps/prometheus.sh"
    workdir.mkdir(parents=True, exist_ok=True)
    if port is not None:
        return _start_prometheus(binary, workdir, jobs, port)
    return start_with_fresh_ports(lambda _: _start_prometheus(binary, workdir, jobs, free_port()), "Prometheus")


def _start_prometheus(binary: str, workdir: Path, jobs: dict[str, list[str]], port: int) -> PrometheusServer:
    scrape = [{"job_name": job, "static_configs": [{"targets": targets}]} for job, targets in jobs.items()]
    config = workdir / "prometheus.yml"
    config.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": scrape}))
    log_path = workdir / "prometheus.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-remote-write-receiver",
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


def http_status(url: str) -> int:
    """GET ``url``; the response status, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class Stoppable(Protocol):
    def stop(self) -> object: ...


@pytest.fixture
def stack() -> Iterator[list[Stoppable]]:
    """Processes a test started, stopped by PID in reverse order at teardown."""
    started: list[Stoppable] = []
    yield started
    for item in reversed(started):
        item.stop()
