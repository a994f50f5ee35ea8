"""Performance monitoring: latency percentiles, bottlenecks, thresholds as alerts, profiles, timers."""

from ricecoder_otel.performance.monitor import PerformanceMonitor
from ricecoder_otel.performance.timer import PerformanceTimer

__all__ = ["PerformanceMonitor", "PerformanceTimer"]
