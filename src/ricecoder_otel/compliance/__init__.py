"""Compliance: redaction before export (``compliance.redaction``)."""
