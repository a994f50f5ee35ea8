"""Test helpers for services monitored with ricecoder-otel (also a pytest plugin)."""

from ricecoder_otel.testing.capture import Capture, metric_points

__all__ = ["Capture", "metric_points"]
