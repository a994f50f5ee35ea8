"""``ricecoder-otel doctor --path`` against the shipped topology of real collectors on loopback.

The hops' addresses come from the shipped agent.yaml/gateway.yaml resolved with the same
variables the collectors were started with, as in a deployment; one sampler's OTLP/HTTP
receiver (a real collector) stands in for the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.harness.collector import Topology
from tests.harness.ports import free_port
from tests.integration.collector.doctor_run import run_doctor

HOPS = ["application", "agent", "gateway", "backend"]


def path_env(topology: Topology, backend: str) -> dict[str, str]:
    """What an operator on the application's host would export: the app's endpoint and the tiers' variables."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{topology.agent.env['AGENT_OTLP_HTTP_ENDPOINT']}",
        "AGENT_HEALTH_ENDPOINT": topology.agent.env["AGENT_HEALTH_ENDPOINT"],
        "GATEWAY_OTLP_ENDPOINT": topology.agent.env["GATEWAY_OTLP_ENDPOINT"],
        "GATEWAY_HEALTH_ENDPOINT": topology.front.env["GATEWAY_HEALTH_ENDPOINT"],
        "GATEWAY_BACKEND_OTLP_ENDPOINT": backend,
    }


def hop(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in report["path"]["hops"] if h["hop"] == name)


def test_doctor_path_probes_every_hop_and_names_the_broken_one(
    topology_factory: Callable[..., Topology], tmp_path: Path
) -> None:
    topology = topology_factory(samplers=1)
    backend = f"http://{topology.samplers[0].env['GATEWAY_OTLP_HTTP_ENDPOINT']}"
    env = path_env(topology, backend)

    code, report = run_doctor("--path", env=env, home=tmp_path)
    assert code == 0, report
    path = report["path"]
    assert (path["ok"], path["broken"]) == (True, None)
    assert [h["hop"] for h in path["hops"]] == HOPS
    assert all(h["ok"] for h in path["hops"])
    assert [c["hop"] for c in hop(report, "application")["checks"]] == ["traces", "metrics", "logs"]
    assert [c["hop"] for c in hop(report, "gateway")["checks"]] == ["health", "connect", "tls", "protocol"]
    assert "GATEWAY_OTLP_ENDPOINT" in hop(report, "gateway")["source"]
    assert hop(report, "backend")["address"] == backend
    assert "GATEWAY_BACKEND_OTLP_ENDPOINT" in hop(report, "backend")["source"]

    closed = f"http://127.0.0.1:{free_port()}"
    code, report = run_doctor("--path", "--backend", closed, env=env, home=tmp_path)
    assert code == 1
    assert report["path"]["broken"] == "backend"
    assert hop(report, "backend")["source"] == "--backend"
    assert "nothing is listening" in hop(report, "backend")["checks"][0]["detail"]

    topology.front.stop()
    code, report = run_doctor("--path", env=env, home=tmp_path)
    assert code == 1
    assert report["path"]["broken"] == "gateway"
    assert report["ok"] is False
    assert hop(report, "application")["ok"] and hop(report, "agent")["ok"] and hop(report, "backend")["ok"]
    failed = [c for c in hop(report, "gateway")["checks"] if not c["ok"]]
    assert failed[0]["hop"] == "health"
    assert "the gateway is not running there" in failed[0]["detail"]
    assert any("GATEWAY_OTLP_ENDPOINT" in (c["fix"] or "") for c in failed)


def test_doctor_path_in_embedded_mode_says_the_application_does_not_export(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    code, report = run_doctor(
        "--path", "--agent", closed, "--gateway", closed, "--backend", closed.rstrip("/"), home=tmp_path
    )
    assert code == 1
    assert report["mode"] == "embedded"
    assert report["path"]["broken"] == "application"
    application = hop(report, "application")
    assert "does not export OTLP" in application["checks"][0]["detail"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in application["checks"][0]["fix"]
