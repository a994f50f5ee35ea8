"""Find out what is listening on an OTLP endpoint before sending it anything.

``doctor`` uses these checks to explain a failed export: nothing listening, gRPC spoken where
OTLP/HTTP was configured (or the reverse), TLS on one side only; ``doctor --path`` adds a
collector's health_check extension. Each check is a plain socket exchange or one GET with a
short timeout; none sends telemetry.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ricecoder_otel.kernel.defaults import OTLP_PORTS

GRPC = "grpc"
HTTP = "http/protobuf"
HTTP_JSON = "http/json"
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


@dataclass(frozen=True)
class Target:
    """Where and how one signal is exported, as the SDK reads the ``OTEL_EXPORTER_OTLP_*`` variables."""

    signal: str
    endpoint: str
    protocol: str
    host: str
    port: int
    tls: bool

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class EndpointError(ValueError):
    """An OTLP endpoint variable that cannot be used as given."""


def target_for(signal: str, env: Mapping[str, str] | None = None) -> Target:
    """The endpoint, protocol and TLS setting the OpenTelemetry SDK would use for ``signal``.

    ``env`` is read as given: pass ``kernel.defaults.effective_env(env)`` to see what a service
    under ricecoder-otel uses (its distro sets the protocol; the bare SDK falls back to gRPC).
    """
    env = os.environ if env is None else env
    upper = signal.upper()
    protocol = env.get(f"OTEL_EXPORTER_OTLP_{upper}_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or GRPC
    if protocol not in (GRPC, HTTP, HTTP_JSON):
        raise EndpointError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: expected grpc, http/protobuf or http/json")
    default = f"http://localhost:{OTLP_PORTS[protocol]}"
    endpoint = env.get(f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or default
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    if not parts.hostname:
        raise EndpointError(f"OTLP endpoint {endpoint!r} has no host (expected e.g. http://localhost:4317)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else OTLP_PORTS[protocol])
    except ValueError as exc:
        raise EndpointError(f"OTLP endpoint {endpoint!r}: {exc}") from None
    if parts.scheme in ("http", "https"):
        tls = parts.scheme == "https"
    else:  # the gRPC exporter takes a bare host:port and reads the insecure flag
        insecure = env.get(f"OTEL_EXPORTER_OTLP_{upper}_INSECURE") or env.get("OTEL_EXPORTER_OTLP_INSECURE") or ""
        tls = insecure.strip().lower() != "true"
    return Target(signal, endpoint, protocol, parts.hostname, port, tls)


@dataclass(frozen=True)
class Finding:
    """One hop's result: what was seen, and how to fix it when it is a problem."""

    hop: str
    ok: bool
    detail: str
    fix: str | None = None


def check_connect(target: Target, timeout_s: float = 2.0) -> Finding:
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout_s):
            return Finding("connect", True, f"{target.address} accepts TCP connections")
    except socket.gaierror as exc:
        return Finding(
            "connect",
            False,
            f"cannot resolve host {target.host!r}: {exc.strerror}",
            "fix the host name in OTEL_EXPORTER_OTLP_ENDPOINT",
        )
    except ConnectionRefusedError:
        return Finding(
            "connect",
            False,
            f"nothing is listening on {target.address} (connection refused)",
            "start the collector there (ricecoder-otel collector path; run it with --config=collector-config/"
            "agent.yaml) or point OTEL_EXPORTER_OTLP_ENDPOINT at a running one",
        )
    except OSError as exc:
        return Finding(
            "connect",
            False,
            f"cannot reach {target.address}: {exc.strerror or exc}",
            "check the address, firewalls and that the collector listens on a reachable interface",
        )


def _unverified_tls_context() -> ssl.SSLContext:
    """A client context that accepts any certificate: the probes only ask what a port speaks."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def speaks_tls(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True when a TLS handshake completes (certificate not checked: this only asks what is spoken)."""
    context = _unverified_tls_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def _exchange(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    try:
        return sock.recv(64)
    except OSError:
        return b""


def _open(target: Target, timeout_s: float) -> socket.socket:
    raw = socket.create_connection((target.host, target.port), timeout=timeout_s)
    if not target.tls:
        return raw
    context = _unverified_tls_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context.wrap_socket(raw, server_hostname=target.host)


def spoken_protocol(target: Target, timeout_s: float = 2.0) -> str | None:
    """``grpc`` if the port answers an HTTP/2 preface with SETTINGS, ``http`` if it answers HTTP/1.1."""
    try:
        with _open(target, timeout_s) as sock:
            reply = _exchange(sock, _H2_PREFACE)
        if len(reply) >= 4 and reply[3] == 0x04:  # an HTTP/2 SETTINGS frame: gRPC's transport
            return GRPC
        with _open(target, timeout_s) as sock:
            request = f"GET / HTTP/1.1\r\nHost: {target.host}\r\nConnection: close\r\n\r\n".encode()
            reply = _exchange(sock, request)
        if reply.startswith(b"HTTP/1."):
            return "http"
    except (OSError, ssl.SSLError):
        return None
    return None


def check_tls(target: Target) -> Finding:
    server_tls = speaks_tls(target.host, target.port)
    if target.tls and not server_tls:
        return Finding(
            "tls",
            False,
            f"the exporter uses TLS but {target.address} speaks plaintext",
            "use an http:// endpoint (or OTEL_EXPORTER_OTLP_INSECURE=true for a bare host:port), "
            "or enable tls on the collector's otlp receiver",
        )
    if not target.tls and server_tls:
        return Finding(
            "tls",
            False,
            f"{target.address} expects TLS but the exporter sends plaintext",
            "use an https:// endpoint and set OTEL_EXPORTER_OTLP_CERTIFICATE to the collector's CA",
        )
    return Finding("tls", True, "TLS on both sides" if target.tls else "plaintext on both sides")


def check_protocol(target: Target) -> Finding:
    spoken = spoken_protocol(target)
    wanted = GRPC if target.protocol == GRPC else "http"
    if spoken is None:
        return Finding(
            "protocol",
            False,
            f"{target.address} answers neither gRPC nor HTTP/1.1",
            "check that the endpoint is an OTLP receiver (collector ports 4317 gRPC, 4318 HTTP)",
        )
    if spoken == wanted:
        return Finding("protocol", True, f"{target.address} speaks {target.protocol}")
    if spoken == GRPC:
        return Finding(
            "protocol",
            False,
            f"OTEL_EXPORTER_OTLP_PROTOCOL is {target.protocol} but {target.address} speaks gRPC",
            "set OTEL_EXPORTER_OTLP_PROTOCOL=grpc, or use the collector's OTLP/HTTP port (4318)",
        )
    return Finding(
        "protocol",
        False,
        f"OTEL_EXPORTER_OTLP_PROTOCOL is grpc but {target.address} speaks HTTP (OTLP/HTTP)",
        "set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, or use the collector's OTLP/gRPC port (4317)",
    )


def diagnose(target: Target) -> list[Finding]:
    """The hops up to the OTLP request, stopping at the first that fails."""
    findings = [check_connect(target)]
    for check in (check_tls, check_protocol):
        if not findings[-1].ok:
            break
        findings.append(check(target))
    return findings


def check_health(hop: str, url: str, timeout_s: float = 2.0) -> Finding:
    """GET a collector's health_check extension: 200 means the collector is up and ready."""
    where = urlsplit(url).netloc or url
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            body = resp.read(4096)
            status = _health_status(body) or f"HTTP {resp.status}"
            return Finding("health", True, f"health_check at {where}: {status}")
    except urllib.error.HTTPError as exc:
        status = _health_status(exc.read(4096)) or exc.reason
        return Finding(
            "health",
            False,
            f"health_check at {where} answered HTTP {exc.code} ({status}): the {hop} is not ready",
            f"read the {hop}'s log: it is starting, shutting down or a component failed",
        )
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ConnectionRefusedError):
            detail = f"nothing is listening on {where} (connection refused): the {hop} is not running there"
        else:
            detail = f"cannot reach the {hop}'s health_check at {where}: {getattr(reason, 'strerror', None) or reason}"
        return Finding("health", False, detail, f"start the {hop}, or give its health_check URL (see --help)")


def _health_status(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    status = document.get("status") if isinstance(document, dict) else None
    return status if isinstance(status, str) else None
