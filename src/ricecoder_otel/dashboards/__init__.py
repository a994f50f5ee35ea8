"""Dashboards: declarative documents, built-ins, queries on the store, HTML/JSON/Grafana export, a live server."""

from ricecoder_otel.dashboards.model import (
    Dashboard,
    DashboardError,
    GridPos,
    Panel,
    Problem,
    Query,
    Threshold,
    Variable,
)

__all__ = ["Dashboard", "DashboardError", "GridPos", "Panel", "Problem", "Query", "Threshold", "Variable"]
