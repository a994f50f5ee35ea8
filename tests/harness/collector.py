"""Our collector (built from collector-config/builder-config.yaml) on loopback, for tests.

``start_collector`` runs the built binary on a config whose addresses come from ``${env:VAR}``
substitution, so every test gets free ports; it polls the health_check extension (or the OTLP
port) until ready and stops the process by PID. A port another process took before the
collector bound it is replaced by a fresh one and the collector started again (a bounded number
of times); the new address is written back into the caller's ``env`` and into every later
collector's variables that named the old one, so the hops of a path keep pointing at each other.
``agent_env`` / ``gateway_env`` give the variables our shipped agent.yaml and gateway.yaml read.
``read_*`` parse the file exporter output (one OTLP JSON request per line).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ricecoder_otel.collector.build import BuildError, require_binary
from ricecoder_otel.collector.layout import config_dir
from tests.harness.ports import START_ATTEMPTS, PortTaken, bind_failed, free_port, loopback, retire, taken_ports

# Ports given up on because another process held them -> the port used instead. free_port never
# hands a port out twice, so an old port seen in a later collector's variables always means this one.
_moved_ports: dict[int, int] = {}


def collector_binary() -> Path:
    try:
        return require_binary()
    except BuildError as exc:
        raise AssertionError(str(exc)) from None


def shipped(name: str) -> Path:
    """A config file shipped in collector-config/."""
    return config_dir() / name


@dataclass
class CollectorHandle:
    name: str
    config: Path
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_address: str
    ready_is_health: bool
    starts: int = field(default=1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM by PID and wait (the collector drains its pipelines); SIGKILL if it hangs."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL by PID: a crash, nothing is drained."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Start the same config again with the same variables (after stop or kill).

        The addresses stay (other hops point at them): a port still held is waited for, a few times.
        """
        self.stop()
        for attempt in range(1, START_ATTEMPTS + 1):
            offset = _log_size(self.log_path)
            self.process = _spawn(self.config, self.env, self.workdir, self.log_path)
            self.starts += 1
            try:
                _wait_ready(self, offset=offset)
                return
            except PortTaken:
                if attempt == START_ATTEMPTS:
                    raise AssertionError(
                        f"{self.name} could not bind its ports again in {attempt} restarts:\n{self.log()[-4000:]}"
                    ) from None
                time.sleep(attempt)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_collector(
    config_path: Path,
    env: Mapping[str, str],
    workdir: Path,
    name: str = "collector",
    ready_timeout_s: float = 60.0,
) -> CollectorHandle:
    """Start the built collector on ``config_path`` with ``env`` added to the environment.

    Readiness: the first ``*_HEALTH_ENDPOINT`` variable in ``env`` (health_check extension),
    else the first ``*_OTLP_GRPC_ENDPOINT`` accepting TCP connections. When a port in ``env`` was
    taken meanwhile, it is replaced by a fresh one (in ``env`` itself too, if it is mutable) and the
    collector started again, up to START_ATTEMPTS times; the last error shows every attempt's log.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    variables = dict(env)
    log_path = workdir / f"{name}.log"
    failures: list[str] = []
    for attempt in range(1, START_ATTEMPTS + 1):
        for old, new in _moved_ports.items():
            _move_port(variables, old, new)
        health = next((v for k, v in variables.items() if k.endswith("_HEALTH_ENDPOINT")), None)
        otlp = next((v for k, v in variables.items() if k.endswith("_OTLP_GRPC_ENDPOINT")), None)
        address = health or otlp
        if address is None:
            raise AssertionError(f"{name}: no *_HEALTH_ENDPOINT or *_OTLP_GRPC_ENDPOINT variable to poll for readiness")
        full_env = {**os.environ, **variables}
        offset = _log_size(log_path)
        process = _spawn(config_path, full_env, workdir, log_path)
        handle = CollectorHandle(name, config_path, full_env, workdir, process, log_path, address, health is not None)
        try:
            _wait_ready(handle, ready_timeout_s, offset=offset)
        except PortTaken as taken:
            failures.append(f"--- attempt {attempt} ---\n{taken.output[-3000:]}")
            ports = {port for port in taken_ports(taken.output) if _mentions(variables, port)}
            if not ports:
                raise AssertionError(f"{name} lost a port it was not given:\n{taken.output[-4000:]}") from None
            for port in ports:
                retire(port)
                _moved_ports[port] = free_port()
                _move_port(variables, port, _moved_ports[port])
            continue
        if isinstance(env, MutableMapping):
            env.update(variables)
        return handle
    raise AssertionError(
        f"{name} could not bind its ports in {START_ATTEMPTS} attempts, each with fresh ports:\n" + "\n".join(failures)
    )


def _log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _mentions(variables: Mapping[str, str], port: int) -> bool:
    return any(value == str(port) or re.search(rf":{port}(?!\d)", value) for value in variables.values())


def _move_port(variables: dict[str, str], old: int, new: int) -> None:
    """Point every address (``host:old``) and bare port value (``old``) in ``variables`` at ``new``."""
    for key, value in variables.items():
        variables[key] = str(new) if value == str(old) else re.sub(rf"(?<=:){old}(?!\d)", str(new), value)


def _spawn(config: Path, env: Mapping[str, str], workdir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    binary = collector_binary()
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [str(binary), f"--config={config}"], env=dict(env), cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )


def _wait_ready(handle: CollectorHandle, timeout_s: float = 60.0, offset: int = 0) -> None:
    """Poll until ready; PortTaken when it exits because a port was in use (its log from ``offset``)."""
    deadline = time.monotonic() + timeout_s
    host, _, port = handle.ready_address.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    while True:
        if handle.process.poll() is not None:
            with open(handle.log_path, "rb") as log:
                log.seek(offset)
                output = log.read().decode(errors="replace")
            if bind_failed(output):
                raise PortTaken(handle.name, output)
            raise AssertionError(
                f"{handle.name} exited with {handle.process.returncode} during start-up:\n{handle.log()[-4000:]}"
            )
        if _ready(host, int(port), handle.ready_is_health):
            return
        if time.monotonic() > deadline:
            handle.kill()
            raise AssertionError(
                f"{handle.name} not ready on {handle.ready_address} in {timeout_s:.0f}s:\n{handle.log()[-4000:]}"
            )
        time.sleep(0.1)


def _ready(host: str, port: int, health: bool) -> bool:
    if health:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def agent_env(workdir: Path, gateway_endpoint: str) -> dict[str, str]:
    """Variables for collector-config/agent.yaml: free loopback ports, state under ``workdir``."""
    return {
        "AGENT_HEALTH_ENDPOINT": loopback(),
        "AGENT_PPROF_ENDPOINT": loopback(),
        "AGENT_ZPAGES_ENDPOINT": loopback(),
        "AGENT_OTLP_GRPC_ENDPOINT": loopback(),
        "AGENT_OTLP_HTTP_ENDPOINT": loopback(),
        "AGENT_PROMETHEUS_ENDPOINT": loopback(),
        "AGENT_TELEMETRY_HOST": "127.0.0.1",
        "AGENT_TELEMETRY_PORT": str(free_port()),
        "AGENT_STORAGE_DIR": str(workdir / "agent-state"),
        "GATEWAY_OTLP_ENDPOINT": gateway_endpoint,
    }


def gateway_env(
    workdir: Path,
    sampling_peers: list[str] | None = None,
    sampling_endpoint: str | None = None,
    sampling_percentage: float = 10,
    decision_wait_s: float = 5,
) -> dict[str, str]:
    """Variables for collector-config/gateway.yaml: free ports, outputs under ``workdir/out``.

    ``sampling_endpoint`` is this instance's layer-2 address; ``sampling_peers`` the layer-2
    addresses its load_balancing exporter routes to (default: only itself).
    """
    sampling_endpoint = sampling_endpoint or loopback()
    closed = loopback()  # nothing listens: the OTLP backend and remote-write exporters retry quietly
    return {
        "GATEWAY_HEALTH_ENDPOINT": loopback(),
        "GATEWAY_PPROF_ENDPOINT": loopback(),
        "GATEWAY_ZPAGES_ENDPOINT": loopback(),
        "GATEWAY_OTLP_GRPC_ENDPOINT": loopback(),
        "GATEWAY_OTLP_HTTP_ENDPOINT": loopback(),
        "GATEWAY_SAMPLING_GRPC_ENDPOINT": sampling_endpoint,
        "GATEWAY_SAMPLING_PEERS": json.dumps(sampling_peers or [sampling_endpoint]),
        "GATEWAY_SAMPLING_PERCENTAGE": str(sampling_percentage),
        "GATEWAY_DECISION_WAIT": f"{decision_wait_s}s",
        "GATEWAY_BACKEND_OTLP_ENDPOINT": f"http://{closed}",
        "GATEWAY_AUDIT_OTLP_ENDPOINT": f"http://{closed}",
        "GATEWAY_PROMETHEUS_REMOTE_WRITE_URL": f"http://{closed}/api/v1/write",
        "GATEWAY_TELEMETRY_HOST": "127.0.0.1",
        "GATEWAY_TELEMETRY_PORT": str(free_port()),
        "GATEWAY_STORAGE_DIR": str(workdir / "state"),
        "GATEWAY_FILE_DIR": str(workdir / "out"),
        "GATEWAY_DEBUG_VERBOSITY": "basic",
    }


def read_requests(path: Path) -> list[dict[str, Any]]:
    """Every OTLP JSON request the file exporter wrote to ``path`` (and its rotated siblings)."""
    files = sorted(path.parent.glob(f"{path.stem}*{path.suffix}")) if path.parent.is_dir() else []
    requests: list[dict[str, Any]] = []
    for file in files:
        # The exporter writes through a buffer: a last line without its newline is still being written.
        complete, _, _ = file.read_text(errors="replace").rpartition("\n")
        requests.extend(json.loads(line) for line in complete.splitlines() if line.strip())
    return requests


def iter_spans(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, span) pairs from a traces file."""
    for request in read_requests(path):
        for rs in request.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    yield rs.get("resource", {}), span


def iter_logs(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, log record) pairs from a logs file."""
    for request in read_requests(path):
        for rl in request.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for record in sl.get("logRecords", []):
                    yield rl.get("resource", {}), record


def attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """OTLP JSON key/value list as a dict of plain values."""
    out: dict[str, Any] = {}
    for kv in item.get("attributes", []):
        value = kv.get("value", {})
        out[kv["key"]] = next(iter(value.values()), None) if value else None
    return out


# The shipped topology on loopback: agent -> gateway layer 1 (load balancing) -> layer-2 samplers.
# All gateway processes run the same gateway.yaml; the front one receives from the agent, the
# samplers receive the traces its load_balancing exporter routes to them.

SENDER = Path(__file__).resolve().parents[1] / "integration" / "collector" / "sender.py"


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
        for handle in self.all:  # upstream first, so nothing retries against a stopped hop
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


def audit_ids_in(path: Path) -> list[str]:
    """Audit record ids in a logs file, one entry per copy (duplicates repeat)."""
    return [
        str(attributes(record).get("ricecoder.audit.id"))
        for _, record in iter_logs(path)
        if record.get("eventName") == "ricecoder.audit"
    ]


def telemetry_value(handle: CollectorHandle, metric: str, **labels: str) -> float:
    """Sum of the collector's own Prometheus metric ``metric`` (with or without ``_total``)
    over the series carrying ``labels``; 0 when the collector has not reported it yet."""
    port = handle.env.get("GATEWAY_TELEMETRY_PORT") or handle.env["AGENT_TELEMETRY_PORT"]
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name.removesuffix("_total") != metric or not all(label in rest for label in wanted):
            continue
        total += float(line.rsplit(" ", 1)[1])
    return total


def traces_decided(sampler: CollectorHandle) -> float:
    """Traces a tail sampler has made its sampling decision on (kept or not)."""
    return telemetry_value(sampler, "otelcol_processor_tail_sampling_global_count_traces_sampled")


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.5)
