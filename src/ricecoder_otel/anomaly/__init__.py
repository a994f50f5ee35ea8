"""Streaming anomaly detection: pure-Python engines with no OpenTelemetry imports.

``create_detector(**options)`` scores one series; :class:`AnomalyMonitor` keeps one detector
per series key. :mod:`ricecoder_otel.anomaly.otel` connects them to the SDK.
"""

from ricecoder_otel.anomaly.detector import Detector, create_detector, to_epoch
from ricecoder_otel.anomaly.episode import KINDS, Episode, Exemplar
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.options import DetectorOptions
from ricecoder_otel.anomaly.series import SeriesRule

__all__ = [
    "KINDS",
    "AnomalyMonitor",
    "Detector",
    "DetectorOptions",
    "Episode",
    "Exemplar",
    "SeriesRule",
    "create_detector",
    "to_epoch",
]
