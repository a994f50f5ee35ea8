"""Named reports one capability offers to others: a registry of pure providers.

A capability never imports another, yet a dashboard shows error groups, percentiles, feature
adoption and compliance status. Each capability registers providers by name (``errors.groups``)
in a module of its own; a reader asks :func:`report` for a name. A provider is a pure function of
the store and a window returning a :class:`ReportTable` (typed columns with units, rows).
The modules that register are listed once, in :data:`REPORT_MODULES`, and imported on the first
lookup, so importing the kernel imports no capability (like :mod:`.registry` for capabilities).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ricecoder_otel.store.base import Store

REPORT_MODULES: tuple[str, ...] = (
    "ricecoder_otel.errors.report_providers",
    "ricecoder_otel.performance.report_providers",
    "ricecoder_otel.analytics.report_providers",
    "ricecoder_otel.compliance.report_providers",
)
"""Modules that register report providers when imported."""

ColumnType = Literal["string", "number", "integer", "time"]


@dataclass(frozen=True)
class ReportWindow:
    """The period ``(since_ns, until_ns]`` a report covers, and the provider's parameters (text)."""

    since_ns: int
    until_ns: int
    params: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str, default: str = "") -> str:
        value = self.params.get(name, "")
        return value if value not in ("", "*") else default

    def int_param(self, name: str, default: int, *, low: int = 1, high: int = 10_000) -> int:
        """A whole-number parameter within ``[low, high]``; :class:`ReportError` names a bad one."""
        text = self.param(name)
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise ReportError(f"{name}: expected a whole number, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise ReportError(f"{name}: expected {low} to {high}, got {value}")
        return value


@dataclass(frozen=True)
class ReportColumn:
    """One column: its name, type and UCUM unit (``s``, ``1``, ``{error}``; "" for text and plain numbers).

    ``time`` columns hold seconds since the epoch (UTC)."""

    name: str
    type: ColumnType = "string"
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class ReportTable:
    """What a provider returns: columns, rows (one value per column, None when unknown) and notes."""

    columns: tuple[ReportColumn, ...]
    rows: list[tuple[Any, ...]]
    notes: tuple[str, ...] = ()

    def column(self, name: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.name == name)


ReportProvider = Callable[[Store, ReportWindow], ReportTable]


@dataclass(frozen=True)
class ReportInfo:
    """A registered report: its provider, what it shows, its parameters and columns (for checks and docs)."""

    name: str
    provider: ReportProvider
    description: str
    params: Mapping[str, str]
    """parameter -> what it does; others are refused."""
    columns: tuple[ReportColumn, ...]


class ReportError(ValueError):
    """A report that cannot be produced as asked: an unknown name or a bad parameter."""


_REPORTS: dict[str, ReportInfo] = {}
_LOCK = threading.Lock()
_loaded = False


def register_report(
    name: str,
    provider: ReportProvider,
    *,
    description: str,
    columns: tuple[ReportColumn, ...],
    params: Mapping[str, str] | None = None,
) -> None:
    """Register ``provider`` as ``name`` (``capability.report``); a name is registered once."""
    info = ReportInfo(name, provider, description, dict(params or {}), columns)
    with _LOCK:
        existing = _REPORTS.get(name)
        if existing is not None and existing.provider is not provider:
            raise ValueError(f"report {name!r} is registered already")
        _REPORTS[name] = info


def known_reports() -> dict[str, ReportInfo]:
    """Every registered report by name (the modules of :data:`REPORT_MODULES` imported first)."""
    global _loaded
    if not _loaded:
        for module in REPORT_MODULES:
            importlib.import_module(module)
        _loaded = True
    with _LOCK:
        return dict(sorted(_REPORTS.items()))


def report_info(name: str) -> ReportInfo:
    """The report called ``name``; :class:`ReportError` lists the known ones otherwise."""
    reports = known_reports()
    info = reports.get(name)
    if info is None:
        raise ReportError(f"unknown report {name!r}; known: {', '.join(reports)}")
    return info


def param_problems(info: ReportInfo, params: Mapping[str, str]) -> list[str]:
    """Parameters ``info`` does not take (each message names the ones it does)."""
    accepted = ", ".join(info.params) or "none"
    return [
        f"{info.name} takes no parameter {key!r} (parameters: {accepted})" for key in params if key not in info.params
    ]


def report(name: str, store: Store, window: ReportWindow) -> ReportTable:
    """Produce the report ``name`` over ``window``; store failures raise ``StoreError``, bad asks ``ReportError``."""
    info = report_info(name)
    problems = param_problems(info, window.params)
    if problems:
        raise ReportError("; ".join(problems))
    return info.provider(store, window)
