"""Streaming anomaly detection: pure-Python engines with no OpenTelemetry imports.

``create_detector(**options)`` scores one series; :class:`AnomalyMonitor` keeps one detector
per series key. :mod:`ricecoder_otel.anomaly.otel` connects them to the SDK.
"""

from ricecoder_otel.anomaly.detector import Detector, create_detector, to_epoch
from ricecoder_otel.anomaly.episode import KINDS, Episode
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.options import DetectorOptions

__all__ = ["KINDS", "AnomalyMonitor", "Detector", "DetectorOptions", "Episode", "create_detector", "to_epoch"]
