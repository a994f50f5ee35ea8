"""``doctor --path``: probe every hop of the shipped topology (application -> agent -> gateway -> backend).

How each hop's address is found, in order:

1. a flag: ``--agent URL`` / ``--gateway URL`` (health_check URLs), ``--backend URL`` (OTLP/HTTP);
2. the shipped ``agent.yaml`` and ``gateway.yaml``, with their ``${env:VAR:-default}`` references
   resolved against doctor's own environment exactly as the collector resolves them, so running
   doctor with a deployment's variables (``GATEWAY_OTLP_ENDPOINT``, ``GATEWAY_HEALTH_ENDPOINT``,
   ``GATEWAY_BACKEND_OTLP_ENDPOINT``, ...) probes that deployment. A listen address on every
   interface (``0.0.0.0:13133``, ``:13133``) is probed on the host the previous hop sends to.

What each hop checks:

* application: the service's own OTLP export to the agent (``doctor``'s per-signal probes);
* agent: its health_check extension;
* gateway: its health_check extension and the OTLP/gRPC receiver the agent exports to
  (connect, TLS as ``GATEWAY_OTLP_INSECURE`` says, protocol);
* backend: the OTLP/HTTP endpoint the gateway exports to (connect, TLS, protocol).

Doctor probes from where it runs: a hop it can reach may still be unreachable from the previous
hop's network. The first hop that fails is named as the broken one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from ricecoder_otel.collector.doctor import OTLP_NAMES, DoctorReport
from ricecoder_otel.collector.layout import ConfigDirNotFound, config_dir
from ricecoder_otel.collector.probe import (
    GRPC,
    HTTP,
    EndpointError,
    Finding,
    Target,
    check_health,
    diagnose,
    target_for,
)
from ricecoder_otel.config.secrets import redact_dsn

HOPS = ("application", "agent", "gateway", "backend")
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ANY_INTERFACE = ("", "0.0.0.0", "::", "[::]")


@dataclass
class HopReport:
    """One hop: what was probed, where its address came from, and each check's finding."""

    hop: str
    address: str | None
    source: str
    checks: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hop": self.hop,
            "ok": self.ok,
            "address": self.address,
            "source": self.source,
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass
class PathReport:
    hops: list[HopReport]

    @property
    def ok(self) -> bool:
        return all(h.ok for h in self.hops)

    @property
    def broken(self) -> str | None:
        """The first hop that failed: where telemetry stops."""
        return next((h.hop for h in self.hops if not h.ok), None)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "broken": self.broken, "hops": [h.as_dict() for h in self.hops]}


def resolve_env_refs(text: str, env: Mapping[str, str]) -> str:
    """``${env:VAR:-default}`` as the collector expands it: the variable unless unset or empty."""
    return _ENV_REF.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def shipped_setting(file: str, keys: tuple[str, ...], env: Mapping[str, str]) -> str | None:
    """A value from a shipped collector config, with its env references resolved; None if absent."""
    try:
        document = yaml.safe_load((config_dir() / file).read_text())
    except (ConfigDirNotFound, OSError, yaml.YAMLError):
        return None
    node: Any = document
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return None if node is None else resolve_env_refs(str(node), env)


def check_path(
    report: DoctorReport,
    env: Mapping[str, str],
    agent: str | None = None,
    gateway: str | None = None,
    backend: str | None = None,
) -> PathReport:
    """Probe every hop; flags win over the shipped configs (see the module docstring)."""
    app = _application(report)
    agent_host = app.address.rpartition(":")[0] if app.address else "localhost"
    return PathReport([app, _agent(env, agent, agent_host), _gateway(env, gateway), _backend(env, backend)])


def _application(report: DoctorReport) -> HopReport:
    otlp = [s for s in report.signals if set(s.exporters) & OTLP_NAMES.keys()]
    if not otlp:
        finding = Finding(
            "export",
            False,
            f"the service does not export OTLP (mode: {report.mode}), so nothing reaches the agent",
            "set OTEL_EXPORTER_OTLP_ENDPOINT to the agent (e.g. http://localhost:4318)",
        )
        return HopReport("application", None, "OTEL_EXPORTER_OTLP_* (with ricecoder-otel's defaults)", [finding])
    address = None
    checks = []
    for signal in otlp:
        otlp_hops = [h for h in signal.hops if h.hop in ("config", "connect", "tls", "protocol", "export")]
        failed = next((h for h in otlp_hops if not h.ok), None)
        last = failed or otlp_hops[-1]
        checks.append(Finding(signal.signal, failed is None, last.detail, last.fix))
        if address is None and signal.endpoint:
            parts = urlsplit(signal.endpoint if "://" in signal.endpoint else f"//{signal.endpoint}")
            if parts.hostname:
                address = f"{parts.hostname}:{parts.port or ''}".rstrip(":")
    return HopReport("application", address, "OTEL_EXPORTER_OTLP_* (with ricecoder-otel's defaults)", checks)


def _health_url(listen: str | None, host: str) -> str | None:
    """A health_check listen address (``0.0.0.0:13133``) as a URL on ``host`` when it binds every interface."""
    if not listen:
        return None
    if "://" in listen:
        return listen
    bound, _, port = listen.rpartition(":")
    return f"http://{host if bound in _ANY_INTERFACE else bound}:{port}/"


def _agent(env: Mapping[str, str], flag: str | None, host: str) -> HopReport:
    url: str | None
    if flag:
        url, source = flag, "--agent"
    else:
        listen = shipped_setting("agent.yaml", ("extensions", "health_check", "endpoint"), env)
        url, source = _health_url(listen, host), "agent.yaml health_check (AGENT_HEALTH_ENDPOINT)"
    if url is None:
        return _unknown("agent", "--agent", "collector-config/agent.yaml")
    return HopReport("agent", redact_dsn(url), source, [check_health("agent", url)])


def _gateway(env: Mapping[str, str], flag: str | None) -> HopReport:
    endpoint = shipped_setting("agent.yaml", ("exporters", "otlp_grpc/gateway", "endpoint"), env)
    insecure = shipped_setting("agent.yaml", ("exporters", "otlp_grpc/gateway", "tls", "insecure"), env)
    source = "agent.yaml otlp_grpc/gateway (GATEWAY_OTLP_ENDPOINT)"
    if flag and not env.get("GATEWAY_OTLP_ENDPOINT"):
        # The shipped default host (a compose/Kubernetes service name) rarely resolves where doctor
        # runs; the host given on the command line does.
        port = (endpoint or "").rpartition(":")[2] or "4317"
        endpoint, source = f"{urlsplit(flag).hostname}:{port}", f"--gateway host, port from {source}"
    checks: list[Finding] = []
    health: str | None
    if flag:
        health, health_source = flag, "--gateway"
    else:
        listen = shipped_setting("gateway.yaml", ("extensions", "health_check", "endpoint"), env)
        host = (endpoint or "").rpartition(":")[0] or "localhost"
        health, health_source = _health_url(listen, host), "gateway.yaml health_check (GATEWAY_HEALTH_ENDPOINT)"
    if endpoint is None or health is None:
        return _unknown("gateway", "--gateway", "collector-config/agent.yaml and gateway.yaml")
    checks.append(check_health("gateway", health))
    otlp_env = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": GRPC,
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE": (insecure or "true"),
    }
    fix = "start the gateway there, or point the agent at a running one (GATEWAY_OTLP_ENDPOINT, read by agent.yaml)"
    checks.extend(_receiver_checks(otlp_env, fix))
    return HopReport("gateway", f"{endpoint} (health {redact_dsn(health)})", f"{source}; {health_source}", checks)


def _backend(env: Mapping[str, str], flag: str | None) -> HopReport:
    endpoint: str | None
    if flag:
        endpoint, source = flag, "--backend"
    else:
        endpoint = shipped_setting("gateway.yaml", ("exporters", "otlp_http/backend", "endpoint"), env)
        source = "gateway.yaml otlp_http/backend (GATEWAY_BACKEND_OTLP_ENDPOINT)"
    if endpoint is None:
        return _unknown("backend", "--backend", "collector-config/gateway.yaml")
    otlp_env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": HTTP}
    fix = "start the OTLP backend there, or point the gateway at a running one (GATEWAY_BACKEND_OTLP_ENDPOINT)"
    return HopReport("backend", redact_dsn(endpoint), source, _receiver_checks(otlp_env, fix))


def _receiver_checks(otlp_env: dict[str, str], fix: str) -> list[Finding]:
    """connect, TLS and protocol of a collector-to-collector link; the fix names the collector's variable."""
    try:
        target: Target = target_for("traces", otlp_env)
    except EndpointError as exc:
        return [Finding("config", False, str(exc), fix)]
    return [
        c if c.ok else Finding(c.hop, False, c.detail.replace("OTEL_EXPORTER_OTLP_PROTOCOL is", "the link uses"), fix)
        for c in diagnose(target)
    ]


def _unknown(hop: str, flag: str, files: str) -> HopReport:
    finding = Finding("config", False, f"no address for the {hop}: {files} not found", f"pass {flag} URL")
    return HopReport(hop, None, "none", [finding])
