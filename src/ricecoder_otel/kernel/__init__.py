"""The kernel every capability builds on.

Defaults for the ``OTEL_*`` variables, the counting export processors, the guard that keeps
ricecoder's failures away from the host application, self-telemetry, the capability seam
(:mod:`ricecoder_otel.kernel.capability`) and the event hub (:mod:`ricecoder_otel.kernel.events`).
"""
