"""Performance monitoring: timers for code blocks, latency analysis."""

from ricecoder_otel.performance.timer import PerformanceTimer

__all__ = ["PerformanceTimer"]
