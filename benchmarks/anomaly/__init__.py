"""Evaluation and throughput harnesses for the streaming anomaly detector."""
