"""Metrics: RED metrics derived from server spans, custom metrics, cardinality limits."""
