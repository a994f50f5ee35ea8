"""The ``opentelemetry_distro`` entry point: environment defaults, instrumentor gating."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from ricecoder_otel.kernel.defaults import apply_env_defaults


class RicecoderDistro(BaseDistro):  # type: ignore[misc]
    """Sets defaults only; the providers are built by :class:`RicecoderConfigurator`."""

    def _configure(self, **kwargs: Any) -> None:
        apply_env_defaults(os.environ)

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        # System metrics can be switched off in ricecoder's config as well as
        # through OTEL_PYTHON_DISABLED_INSTRUMENTATIONS.
        from ricecoder_otel.pipeline import active_pipeline

        pipeline = active_pipeline()
        if entry_point.name == "system_metrics" and pipeline is not None:
            metrics = pipeline.config.metrics
            if not (metrics.enabled and metrics.system_metrics):
                return
        super().load_instrumentor(entry_point, **kwargs)
