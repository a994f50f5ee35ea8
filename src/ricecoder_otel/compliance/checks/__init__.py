"""Compliance checks as code over the live configuration and the stored evidence."""

from ricecoder_otel.compliance.checks.catalog import CHECKS, CONTROLS, Check, CheckResult, checks_for
from ricecoder_otel.compliance.checks.evidence import Evidence, gather

__all__ = ["CHECKS", "CONTROLS", "Check", "CheckResult", "Evidence", "checks_for", "gather"]
