"""The OTEL_* defaults ricecoder-otel sets when the user has not set them.

This module is the one source of truth for them: the distro and ``build_pipeline`` apply them,
``doctor`` resolves the same effective settings to probe what the service would use, and the
defaults table in docs/pipeline.md is generated from :func:`defaults_markdown` (a test keeps
the page and docs/deployment.md in step).

Defaults only: anything the user sets wins. With no OTLP endpoint configured a signal goes to
the embedded store (``ricecoder_local``); with one it goes over OTLP. ``http/protobuf`` is the
protocol the OpenTelemetry specification recommends as the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

LOCAL_EXPORTER = "ricecoder_local"
OTLP_EXPORTER = "otlp"
DEFAULT_PROTOCOL = "http/protobuf"
# The OTLP receiver ports the specification assigns (the collector listens on both).
OTLP_PORTS: Mapping[str, int] = {"grpc": 4317, "http/protobuf": 4318, "http/json": 4318}
SIGNALS = ("traces", "metrics", "logs")

_SIGNALS = {
    "traces": ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    "metrics": ("OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
    "logs": ("OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
}

# (variable, default as documented, why): the rows of the documented defaults table.
_DOCUMENTED = (
    (
        "OTEL_{TRACES,METRICS,LOGS}_EXPORTER",
        f"`{LOCAL_EXPORTER}`, or `{OTLP_EXPORTER}` when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the signal's own "
        "endpoint) is set",
        "zero infrastructure by default",
    ),
    (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        f"`{DEFAULT_PROTOCOL}`",
        f"the specification's recommended default (port {OTLP_PORTS[DEFAULT_PROTOCOL]}); `grpc` "
        f"(port {OTLP_PORTS['grpc']}) works by setting it",
    ),
    (
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        "`http`",
        "instrumentations emit the stable HTTP names (`http.request.method`, `http.response.status_code`)",
    ),
    (
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
        "`otel,host,os,service_instance`",
        "no `process` detector: `process.command_args` can carry secrets",
    ),
)


def env_defaults(env: Mapping[str, str]) -> dict[str, str]:
    """The defaults for this environment (not yet applied)."""
    defaults = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": DEFAULT_PROTOCOL,
        # Instrumentations emit the stable HTTP names (http.server.request.duration, ...).
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        # No "process" detector: process.command_args can carry secrets.
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel,host,os,service_instance",
    }
    shared_endpoint = bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    for exporter_var, endpoint_var in _SIGNALS.values():
        remote = shared_endpoint or bool(env.get(endpoint_var))
        defaults[exporter_var] = OTLP_EXPORTER if remote else LOCAL_EXPORTER
    return defaults


_APPLIED_TO_PROCESS: dict[str, str] = {}
"""The defaults set in ``os.environ`` (the distro sets them before the configurator runs)."""


def apply_env_defaults(env: MutableMapping[str, str]) -> dict[str, str]:
    """Set every default the user left unset; return what was set."""
    applied = {}
    for key, value in env_defaults(env).items():
        if not env.get(key):
            env[key] = value
            applied[key] = value
    if env is os.environ:
        _APPLIED_TO_PROCESS.update(applied)
    return applied


def set_by_user(key: str) -> bool:
    """True when ``key`` in ``os.environ`` was set by the user, not filled in by our defaults."""
    value = os.environ.get(key)
    return bool(value) and _APPLIED_TO_PROCESS.get(key) != value


def effective_env(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``env`` as the SDK sees it once the distro ran: what tools must probe, not the raw env."""
    resolved = dict(env)
    apply_env_defaults(resolved)
    return resolved


def exporter_names(signal: str, env: Mapping[str, str]) -> list[str]:
    """The exporters ``signal`` uses in ``env`` (after defaults), as the SDK splits the variable."""
    value = effective_env(env).get(_SIGNALS[signal][0], "").strip()
    if value.lower() == "none":
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def defaults_markdown() -> str:
    """The defaults table of docs/pipeline.md, so the page cannot drift from the code."""
    lines = ["| variable | default | why |", "|---|---|---|"]
    lines += [f"| `{variable}` | {default} | {why} |" for variable, default, why in _DOCUMENTED]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m ricecoder_otel.kernel.defaults: regenerate the docs table
    print(defaults_markdown(), end="")
