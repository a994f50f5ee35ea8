"""GDPR subject rights: erasure and access over every stored table, request deadlines, record of processing."""

from ricecoder_otel.compliance.gdpr.requests import RequestError, RequestLog, SubjectRequest
from ricecoder_otel.compliance.gdpr.service import Erasure, access_export, erase
from ricecoder_otel.compliance.gdpr.subjects import Subject, SubjectError, subject

__all__ = [
    "Erasure",
    "RequestError",
    "RequestLog",
    "Subject",
    "SubjectError",
    "SubjectRequest",
    "access_export",
    "erase",
    "subject",
]
