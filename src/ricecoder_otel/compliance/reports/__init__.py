"""Compliance reports: checks rolled up per control, with waivers, in JSON, Markdown, HTML and OSCAL."""

from ricecoder_otel.compliance.reports.engine import ComplianceEngine, ComplianceReport, ControlResult, Finding
from ricecoder_otel.compliance.reports.formats import FORMATS, render, to_html, to_markdown, to_oscal

__all__ = [
    "FORMATS",
    "ComplianceEngine",
    "ComplianceReport",
    "ControlResult",
    "Finding",
    "render",
    "to_html",
    "to_markdown",
    "to_oscal",
]
