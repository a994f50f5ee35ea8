"""The shipped topology on loopback: agent -> gateway layer 1 (load balancing) -> two layer-2 samplers.

All three gateway processes run the same gateway.yaml; the front one receives from the agent,
the other two receive the traces its load_balancing exporter routes to them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.harness.collector import (
    CollectorHandle,
    agent_env,
    attributes,
    gateway_env,
    iter_logs,
    loopback,
    shipped,
    start_collector,
)

SENDER = Path(__file__).with_name("sender.py")


@dataclass
class Topology:
    workdir: Path
    agent: CollectorHandle
    front: CollectorHandle
    samplers: list[CollectorHandle]

    @property
    def all(self) -> list[CollectorHandle]:
        return [self.agent, self.front, *self.samplers]

    def send(self, *args: str, protocol: str = "grpc") -> dict[str, Any]:
        """Run the sender against the agent; returns what it says it sent."""
        port = self.agent.env["AGENT_OTLP_GRPC_ENDPOINT" if protocol == "grpc" else "AGENT_OTLP_HTTP_ENDPOINT"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{port}",
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
            OTEL_EXPORTER_OTLP_INSECURE="true",
        )
        result = subprocess.run(
            [sys.executable, str(SENDER), *args], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, result.stderr[-4000:]
        summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return summary

    def sampler_out(self, index: int) -> Path:
        return Path(self.samplers[index].env["GATEWAY_FILE_DIR"])

    @property
    def front_out(self) -> Path:
        return Path(self.front.env["GATEWAY_FILE_DIR"])

    @property
    def agent_archive(self) -> Path:
        return Path(self.agent.env["AGENT_STORAGE_DIR"]) / "audit" / "audit.jsonl"

    def stop(self) -> None:
        for handle in reversed(self.all):
            handle.stop()


def start_topology(workdir: Path, sampling_percentage: float = 30, samplers: int = 2) -> Topology:
    endpoints = [loopback() for _ in range(samplers)]
    started: list[CollectorHandle] = []
    try:
        for index, endpoint in enumerate(endpoints):
            sampler_dir = workdir / f"sampler-{index}"
            env = gateway_env(sampler_dir, sampling_endpoint=endpoint, sampling_percentage=sampling_percentage)
            started.append(start_collector(shipped("gateway.yaml"), env, sampler_dir, name=f"sampler-{index}"))
        front_dir = workdir / "front"
        env = gateway_env(front_dir, sampling_peers=endpoints, sampling_percentage=sampling_percentage)
        front = start_collector(shipped("gateway.yaml"), env, front_dir, name="gateway-front")
        started.append(front)
        agent_dir = workdir / "agent"
        agent = start_collector(
            shipped("agent.yaml"), agent_env(agent_dir, env["GATEWAY_OTLP_GRPC_ENDPOINT"]), agent_dir, name="agent"
        )
    except BaseException:
        for handle in reversed(started):
            handle.stop()
        raise
    return Topology(workdir, agent, front, started[:-1])


@pytest.fixture
def topology_factory(tmp_path: Path) -> Iterator[Callable[..., Topology]]:
    made: list[Topology] = []

    def make(**kwargs: Any) -> Topology:
        topology = start_topology(tmp_path / f"topology-{len(made)}", **kwargs)
        made.append(topology)
        return topology

    yield make
    for topology in made:
        topology.stop()


def audit_ids_in(path: Path) -> list[str]:
    """Audit record ids in a logs file, one entry per copy (duplicates repeat)."""
    return [
        str(attributes(record).get("ricecoder.audit.id"))
        for _, record in iter_logs(path)
        if record.get("eventName") == "ricecoder.audit"
    ]


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.5)
