"""Where the configured OTLP exporters send data, and whether the link is encrypted.

Read from the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT`` and the per-signal
``..._TRACES_/_METRICS_/_LOGS_ENDPOINT``, with their ``..._INSECURE`` flags). An endpoint is
encrypted when its scheme is ``https`` (or a gRPC endpoint without a scheme and not marked
insecure); plain ``http`` or ``insecure=true`` is acceptable only to a loopback host, where the
data never crosses a network. Only scheme, host and port are reported: never credentials.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNALS = ("TRACES", "METRICS", "LOGS")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True)
class Endpoint:
    variable: str
    scheme: str
    host: str
    port: int | None
    insecure: bool

    @property
    def loopback(self) -> bool:
        if self.host.lower() in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def encrypted(self) -> bool:
        return self.scheme == "https" and not self.insecure

    @property
    def acceptable(self) -> bool:
        return self.encrypted or self.loopback

    def describe(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{self.host}{port}"

    def to_json(self) -> dict[str, object]:
        return {
            "variable": self.variable,
            "endpoint": self.describe(),
            "encrypted": self.encrypted,
            "loopback": self.loopback,
            "acceptable": self.acceptable,
        }


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def otlp_endpoints(env: Mapping[str, str]) -> list[Endpoint]:
    """The OTLP endpoints configured in ``env`` (the generic one and any per-signal one)."""
    found: list[Endpoint] = []
    names = ["OTEL_EXPORTER_OTLP_ENDPOINT", *(f"OTEL_EXPORTER_OTLP_{s}_ENDPOINT" for s in SIGNALS)]
    for name in names:
        value = env.get(name, "").strip()
        if not value:
            continue
        signal = name.removeprefix("OTEL_EXPORTER_OTLP_").removesuffix("ENDPOINT")
        insecure = _truthy(env.get(f"OTEL_EXPORTER_OTLP_{signal}INSECURE")) or _truthy(
            env.get("OTEL_EXPORTER_OTLP_INSECURE")
        )
        parts = urlsplit(value if "://" in value else f"grpc://{value}")
        scheme = parts.scheme.lower()
        if scheme == "grpc":  # a bare host:port is gRPC, encrypted unless marked insecure
            scheme = "http" if insecure else "https"
        try:
            port = parts.port
        except ValueError:
            port = None
        found.append(Endpoint(name, scheme, parts.hostname or "", port, insecure))
    return found
