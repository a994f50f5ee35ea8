"""The ``opentelemetry_configurator`` entry point used by ``opentelemetry-instrument``."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._configuration import _BaseConfigurator

from ricecoder_otel.pipeline import build_pipeline, load_startup_config


class RicecoderConfigurator(_BaseConfigurator):
    """Builds ricecoder's pipeline (see docs/pipeline.md) instead of the SDK's default one.

    The SDK configurator has no way to add metric views or to wrap export
    processors, so, like the AWS distribution, we build the providers ourselves
    while reusing the SDK's exporter, sampler and id-generator lookups: every
    standard OTEL_* variable keeps its meaning.
    """

    def _configure(self, **kwargs: Any) -> None:
        build_pipeline(
            load_startup_config(),
            auto_instrumentation_version=kwargs.get("auto_instrumentation_version"),
        )
