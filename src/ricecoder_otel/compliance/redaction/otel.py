"""The SDK adapter: the redaction policy on spans, metric points and log records.

* Spans are read-only once ended, so :class:`SpanRedactor` is an export transform (it runs on
  each exporter's background thread, see ``kernel.transform``) and returns a redacted copy:
  name, attributes, events (``exception.message`` and ``exception.stacktrace`` included),
  links' attributes and the status description; the resource stays.
* :class:`MetricsRedactor` redacts point attributes and exemplars in each collection. Points
  whose attributes become equal after redaction are merged (sums add, histograms with the same
  bounds add, gauges keep the last), so a backend never sees duplicate series.
* :class:`LogRedactor` is an export transform too: it returns a redacted copy of a log record's
  body and attributes on the exporter's thread (scanning on the thread that logs tripled the
  cost of a log call); ``drop_record`` empties the copy's body and attributes.

A redacted span or log record carries ``ricecoder.redacted.count`` (values redacted) and
``ricecoder.redacted.detectors`` (which detectors, sorted), never the values.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricsData,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status

from ricecoder_otel.compliance.redaction.engine import Redactor, Tally
from ricecoder_otel.kernel.metricdata import walk
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY
from ricecoder_otel.kernel.span_hooks import has_events, has_links, span_attributes
from ricecoder_otel.kernel.transform import guarded

COUNT_ATTRIBUTE = "ricecoder.redacted.count"
DETECTORS_ATTRIBUTE = "ricecoder.redacted.detectors"
DROPPED_BODY = "[REDACTED:record]"

Source = Callable[[], Redactor | None]
"""Returns the live redactor, or None while redaction is switched off."""
Counter = Callable[[Tally, str], None]
"""Records a record's tally in the redaction metrics (signal name as the second argument)."""


def _summary(tally: Tally) -> dict[str, Any]:
    return {COUNT_ATTRIBUTE: tally.total, DETECTORS_ATTRIBUTE: sorted(tally.counts)}


_FIELDS: tuple[str, ...] = tuple(vars(ReadableSpan(name="", resource=Resource.get_empty())))
"""The instance fields ``ReadableSpan.__init__`` sets, as this SDK version names them."""


def copy_span(span: ReadableSpan, name: str, attributes: dict[str, Any], events: list[Event] | None,
              links: list[Link] | None, status: Status) -> ReadableSpan:
    """A ``ReadableSpan`` like ``span`` with a new name, attributes and status (events and links
    when not None).

    Copies the instance fields the constructor sets instead of calling it: the constructor's
    keywords read every field through a property, and ``events``/``links`` copy their lists,
    which cost as much as redacting the attributes of a typical span. A span object without
    those fields (another implementation) goes through the constructor.
    """
    try:
        fields = vars(span)
        # A plain ReadableSpan holds exactly these fields; an SDK span more (its lock, processor).
        state = fields.copy() if type(span) is ReadableSpan else {name: fields[name] for name in _FIELDS}
    except (KeyError, TypeError):
        return ReadableSpan(
            name=name, context=span.context, parent=span.parent, resource=span.resource, attributes=attributes,
            events=events if events is not None else span.events, links=links if links is not None else span.links,
            kind=span.kind, status=status, start_time=span.start_time, end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )  # fmt: skip
    state["_name"], state["_attributes"], state["_status"] = name, attributes, status
    if events is not None:
        state["_events"] = events
    if links is not None:
        state["_links"] = links
    copied: ReadableSpan = object.__new__(ReadableSpan)
    copied.__dict__.update(state)
    return copied


class SpanRedactor:
    """Export transform: a redacted copy of the span, the same span if clean, None to drop it."""

    def __init__(self, source: Source, count: Counter) -> None:
        self._source = source
        self._count = count

    def __call__(self, span: ReadableSpan) -> ReadableSpan | None:
        return self.transform_batch((span,))[0]

    def transform_batch(self, spans: Sequence[ReadableSpan]) -> list[ReadableSpan | None]:
        """Every span of an export batch. The common span is decided in this loop from the SDK span's
        own fields, without a call per span or a tally: a name and attributes known clean, no
        events, no links, no status description (``test_span_redactor`` fails if the SDK stops
        keeping them where this reads them). Any other span gets the full pass (a failure drops
        only that span)."""
        redactor = self._source()
        if redactor is None:
            return list(spans)
        known_clean = redactor.known_clean
        results: list[ReadableSpan | None] = []
        for span in spans:
            if type(span) is ReadableSpan:
                fields: Any = span
                bounded, events, links = fields._attributes, fields._events, fields._links
                if (
                    type(bounded) is BoundedAttributes
                    and type(events) is BoundedList
                    and type(links) is BoundedList
                    and not events._dq  # type: ignore[attr-defined]
                    and not links._dq  # type: ignore[attr-defined]
                    and not fields._status._description
                    and known_clean(fields._name, bounded._dict)
                ):
                    results.append(span)
                    continue
            results.append(guarded("span", self._redact, redactor, span))
        return results

    def _redact(self, redactor: Redactor, span: ReadableSpan) -> ReadableSpan | None:
        tally = Tally()
        name = redactor.redact_whole(span.name, tally)
        plain = span_attributes(span)
        attributes = redactor.redact_attributes(plain, tally)
        events = self._events(redactor, span, tally) if has_events(span) else None
        links = self._links(redactor, span, tally) if has_links(span) else None
        status = span.status
        if status.description:
            description = redactor.redact_whole(status.description, tally)
            if description is not status.description:
                status = Status(status.status_code, description)
        if not tally.counts:
            return span
        self._count(tally, "spans")
        if tally.drop_record:
            return None
        merged = dict(plain) if attributes is None else attributes
        merged.update(_summary(tally))
        return copy_span(span, name if isinstance(name, str) else str(name), merged, events, links, status)

    @staticmethod
    def _events(redactor: Redactor, span: ReadableSpan, tally: Tally) -> list[Event] | None:
        changed = False
        events: list[Event] = []
        for event in span.events:
            name = redactor.redact_whole(event.name, tally)
            attributes = redactor.redact_attributes(event.attributes or {}, tally)
            if name is event.name and attributes is None:
                events.append(event)
                continue
            changed = True
            events.append(Event(str(name), attributes if attributes is not None else event.attributes,
                                timestamp=event.timestamp))
        return events if changed else None

    @staticmethod
    def _links(redactor: Redactor, span: ReadableSpan, tally: Tally) -> list[Link] | None:
        changed = False
        links: list[Link] = []
        for link in span.links:
            attributes = redactor.redact_attributes(link.attributes or {}, tally)
            if attributes is None:
                links.append(link)
            else:
                changed = True
                links.append(Link(link.context, attributes))
        return links if changed else None


class MetricsRedactor:
    """Export transform on a metric collection: point attributes and exemplars, in place."""

    def __init__(self, source: Source, count: Counter) -> None:
        self._source = source
        self._count = count

    def __call__(self, data: MetricsData) -> MetricsData:
        redactor = self._source()
        if redactor is None:
            return data
        for _, metric in walk(data):
            self._metric(redactor, metric.data)
        return data

    def _metric(self, redactor: Redactor, body: Any) -> None:
        points = getattr(body, "data_points", None)
        if not points:
            return
        kept: list[Any] = []
        changed = False
        for point in points:
            tally = Tally()
            attributes = redactor.redact_attributes(point.attributes or {}, tally)
            exemplars = self._exemplars(redactor, point, tally)
            if not tally.counts:
                kept.append(point)
                continue
            changed = True
            self._count(tally, "metrics")
            if tally.drop_record:
                continue
            if attributes is not None:
                object.__setattr__(point, "attributes", attributes)
            if exemplars is not None:
                object.__setattr__(point, "exemplars", exemplars)
            kept.append(point)
        if changed:
            object.__setattr__(body, "data_points", _merge(body, kept))

    @staticmethod
    def _exemplars(redactor: Redactor, point: Any, tally: Tally) -> list[Any] | None:
        exemplars = getattr(point, "exemplars", None) or ()
        out: list[Any] = []
        changed = False
        for exemplar in exemplars:
            filtered = redactor.redact_attributes(exemplar.filtered_attributes or {}, tally)
            if filtered is None:
                out.append(exemplar)
            else:
                changed = True
                out.append(dataclasses.replace(exemplar, filtered_attributes=filtered))
        return out if changed else None


def _key(attributes: Mapping[str, Any] | None) -> frozenset[tuple[str, str]]:
    return frozenset((k, repr(v)) for k, v in (attributes or {}).items())


def _merge(body: Any, points: list[Any]) -> list[Any]:
    """Points with equal attributes (after redaction) merged into one, so no series is duplicated."""
    by_key: dict[frozenset[tuple[str, str]], Any] = {}
    for point in points:
        key = _key(point.attributes)
        first = by_key.get(key)
        if first is None:
            by_key[key] = point
        elif isinstance(body, Sum) and isinstance(point, NumberDataPoint):
            by_key[key] = dataclasses.replace(first, value=first.value + point.value)
        elif isinstance(body, Gauge):
            by_key[key] = point
        elif (isinstance(body, Histogram) and isinstance(point, HistogramDataPoint)
              and list(point.explicit_bounds) == list(first.explicit_bounds)):
            by_key[key] = dataclasses.replace(
                first,
                count=first.count + point.count,
                sum=first.sum + point.sum,
                bucket_counts=[a + b for a, b in zip(first.bucket_counts, point.bucket_counts, strict=True)],
                min=min(first.min, point.min),
                max=max(first.max, point.max),
            )
        else:  # points that cannot be merged (exponential histograms, other bounds): keep the first
            SELF_TELEMETRY.count_drop("metrics.redaction_merge")
    return list(by_key.values())


class LogRedactor:
    """Export transform: a redacted copy of the log record, the same record if clean, None to drop it.

    Runs on the exporter's thread, not the application's (a scan of every log line on the thread
    that logs it tripled the cost of a log call). A copy, never a change in place: the exporters
    share each record, and one must not see another's half-redacted record. Bounded work (the
    policy's scan limits; the edge processor bounded size and depth on emit). If redaction fails
    the kernel drops the record (fail closed) and counts it.
    """

    def __init__(self, source: Source, count: Counter) -> None:
        self._source = source
        self._count = count

    def __call__(self, readable: ReadableLogRecord) -> ReadableLogRecord | None:
        redactor = self._source()
        if redactor is None:
            return readable
        record = readable.log_record
        tally = Tally()
        body = redactor.redact_whole(record.body, tally)
        plain = record.attributes or {}
        attributes = redactor.redact_attributes(plain, tally)
        if not tally.counts:
            return readable
        self._count(tally, "logs")
        copy = _copy_record(record)
        if tally.drop_record:
            copy.body, copy.attributes = DROPPED_BODY, _summary(tally)
        else:
            merged = dict(plain) if attributes is None else attributes
            merged.update(_summary(tally))
            copy.body, copy.attributes = body, merged
        return replace(readable, log_record=copy)


def _copy_record(record: LogRecord) -> LogRecord:
    """A shallow copy of a log record whose body and attributes can then be replaced alone."""
    return copy.copy(record)
