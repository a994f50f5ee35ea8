"""Performance monitoring: latency percentiles, bottlenecks, thresholds as alerts, profiles, timers.

``COMPILED`` is True when the worker's per-span modules (worker, engine, histogram, bottleneck,
spans) run as the C extensions mypyc builds at install time (setup.py); the pure-Python modules
compute the same results.
"""

from ricecoder_otel.performance import worker as _worker
from ricecoder_otel.performance.monitor import PerformanceMonitor
from ricecoder_otel.performance.timer import PerformanceTimer

COMPILED: bool = not _worker.__file__.endswith(".py")

__all__ = ["COMPILED", "PerformanceMonitor", "PerformanceTimer"]
