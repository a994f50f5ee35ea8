"""Streaming anomaly detection: pure-Python engines with no OpenTelemetry imports.

``create_detector(**options)`` scores one series; :class:`AnomalyMonitor` keeps one detector
per series key. :mod:`ricecoder_otel.anomaly.otel` connects them to the SDK.

``COMPILED`` is True when the detector runs as the C extension that mypyc builds from
``detector.py`` at install time (setup.py); the pure-Python module scores identically.
"""

from ricecoder_otel.anomaly import detector as _detector
from ricecoder_otel.anomaly.detector import Detector, create_detector, to_epoch
from ricecoder_otel.anomaly.episode import KINDS, Episode, Exemplar
from ricecoder_otel.anomaly.monitor import AnomalyMonitor
from ricecoder_otel.anomaly.options import DetectorOptions
from ricecoder_otel.anomaly.series import SeriesRule

COMPILED: bool = not _detector.__file__.endswith(".py")

__all__ = [
    "COMPILED",
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
