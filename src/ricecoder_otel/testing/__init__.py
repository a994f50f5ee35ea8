"""Test helpers for services monitored with ricecoder-otel (also a pytest plugin).

``ricecoder_capture`` (the fixture) and :class:`RicecoderCapture` run the real pipeline in
memory; :class:`Capture` wires bare SDK providers to in-memory exporters.
"""

from ricecoder_otel.testing.capture import Capture, RicecoderCapture, metric_points, points_in
from ricecoder_otel.testing.memory import InMemoryMetricExporter, ManualClock

__all__ = ["Capture", "InMemoryMetricExporter", "ManualClock", "RicecoderCapture", "metric_points", "points_in"]
