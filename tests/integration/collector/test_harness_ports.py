"""The collector harness survives a port another process took between picking and binding it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import collector
from tests.harness.collector import CollectorHandle, agent_env, gateway_env, shipped, start_collector
from tests.harness.ports import START_ATTEMPTS, free_port


@pytest.fixture
def squatter() -> Iterator[socket.socket]:
    """A listener that holds a port, as a process that grabbed it would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock


def _stop_all(handles: list[CollectorHandle]) -> None:
    for handle in handles:
        handle.stop()


def test_a_taken_port_is_replaced_and_the_next_hop_follows_it(tmp_path: Path, squatter: socket.socket) -> None:
    taken = f"127.0.0.1:{squatter.getsockname()[1]}"
    gateway = gateway_env(tmp_path / "gateway", sampling_percentage=100, decision_wait_s=1)
    gateway["GATEWAY_OTLP_GRPC_ENDPOINT"] = taken
    agent = agent_env(tmp_path / "agent", taken)  # built before the gateway moved, as start_path does
    started: list[CollectorHandle] = []
    try:
        started.append(start_collector(shipped("gateway.yaml"), gateway, tmp_path / "gateway", name="gateway"))
        started.append(start_collector(shipped("agent.yaml"), agent, tmp_path / "agent", name="agent"))
        moved = started[0].env["GATEWAY_OTLP_GRPC_ENDPOINT"]
        assert moved != taken and gateway["GATEWAY_OTLP_GRPC_ENDPOINT"] == moved
        assert started[1].env["GATEWAY_OTLP_ENDPOINT"] == moved
        with socket.create_connection(tuple(moved.split(":")), timeout=5):  # type: ignore[arg-type]
            pass
        assert "address already in use" in started[0].log()
    finally:
        _stop_all(started)


def test_ports_taken_on_every_attempt_fail_with_each_attempts_output(
    tmp_path: Path, squatter: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = squatter.getsockname()[1]
    env = gateway_env(tmp_path, sampling_percentage=100)
    env["GATEWAY_PPROF_ENDPOINT"] = f"127.0.0.1:{port}"
    monkeypatch.setattr(collector, "free_port", lambda: port)  # every fresh pick is taken too
    monkeypatch.setattr(collector, "_moved_ports", {})
    with pytest.raises(AssertionError) as failure:
        start_collector(shipped("gateway.yaml"), env, tmp_path, name="gateway")
    message = str(failure.value)
    assert f"gateway could not bind its ports in {START_ATTEMPTS} attempts" in message
    assert message.count("--- attempt ") == START_ATTEMPTS
    assert message.count(f"127.0.0.1:{port}: bind: address already in use") >= START_ATTEMPTS


def test_free_ports_are_reserved_and_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    with socket.socket() as plain, pytest.raises(OSError):  # a bind without SO_REUSEADDR is refused
        plain.bind(("127.0.0.1", ports[0]))
    with socket.socket() as server:  # a server binding with SO_REUSEADDR gets it
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", ports[0]))
        server.listen(1)
