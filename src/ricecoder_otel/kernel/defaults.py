"""The OTEL_* defaults ricecoder-otel sets when the user has not set them.

Defaults only: anything the user sets wins. With no OTLP endpoint configured a
signal goes to the embedded store (``ricecoder_local``); with one it goes over
OTLP. ``http/protobuf`` is the protocol the OpenTelemetry specification
recommends as the default.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

LOCAL_EXPORTER = "ricecoder_local"

_SIGNALS = {
    "traces": ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    "metrics": ("OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
    "logs": ("OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
}


def env_defaults(env: Mapping[str, str]) -> dict[str, str]:
    """The defaults for this environment (not yet applied)."""
    defaults = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # Instrumentations emit the stable HTTP names (http.server.request.duration, ...).
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        # No "process" detector: process.command_args can carry secrets.
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel,host,os,service_instance",
    }
    shared_endpoint = bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    for exporter_var, endpoint_var in _SIGNALS.values():
        remote = shared_endpoint or bool(env.get(endpoint_var))
        defaults[exporter_var] = "otlp" if remote else LOCAL_EXPORTER
    return defaults


def apply_env_defaults(env: MutableMapping[str, str]) -> dict[str, str]:
    """Set every default the user left unset; return what was set."""
    applied = {}
    for key, value in env_defaults(env).items():
        if not env.get(key):
            env[key] = value
            applied[key] = value
    return applied
