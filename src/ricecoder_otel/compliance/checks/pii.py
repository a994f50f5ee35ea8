"""Evidence for "no PII in exported telemetry": the redaction detectors over a recent sample of the store.

What the store holds is what the exporters were handed (both sit behind the same redaction
transforms), so a value a detector still finds there leaked past the policy. The scan reads the
newest ``limit`` spans (name, status message, attributes, events), log records (body,
attributes) and metric points (attributes) of the period through the store's public queries,
and runs the configured detectors on them (without the configured callback: a scan must not call
application code). Values that are already redaction markers are skipped. Only counts are kept,
per detector and per signal: never a value. Resource attributes (host names, process
arguments) are not scanned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ricecoder_otel.compliance.redaction.capability import policy_from_config
from ricecoder_otel.compliance.redaction.detectors import OVERSIZE
from ricecoder_otel.compliance.redaction.engine import Redactor, Tally
from ricecoder_otel.config.model import RedactionConfig
from ricecoder_otel.store.base import Store

SAMPLE = 2000
"""Most records read per signal."""
_MARKER = re.compile(r"\[(?:REDACTED:[^\]]*|HASHED:[^\]]*)\]")


@dataclass(frozen=True)
class PiiScan:
    """How many records of each signal were read, and what the detectors found in them (counts only)."""

    limit: int
    scanned: dict[str, int] = field(default_factory=dict)
    records_with_findings: dict[str, int] = field(default_factory=dict)
    detectors: dict[str, int] = field(default_factory=dict)
    """Values found per detector name."""

    @property
    def findings(self) -> int:
        return sum(self.detectors.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "sample_limit_per_signal": self.limit,
            "scanned": dict(self.scanned),
            "records_with_findings": dict(self.records_with_findings),
            "detectors": dict(sorted(self.detectors.items())),
        }


def scanner(config: RedactionConfig) -> Redactor:
    """The configured detectors (raises ValueError for a policy that does not compile)."""
    return Redactor(policy_from_config(config.model_copy(update={"callback": None})))


def scan_store(store: Store, redactor: Redactor, start_ns: int, end_ns: int, limit: int = SAMPLE) -> PiiScan:
    """Scan the newest ``limit`` records per signal stored in [start_ns, end_ns)."""
    scan = PiiScan(limit)
    spans = store.query_spans(since_ns=start_ns, until_ns=end_ns, limit=limit)
    _signal(scan, "spans", (_span_values(s.name, s.status_message, s.attributes, s.events) for s in spans), redactor)
    logs = [row for row in store.query_logs(since_ns=start_ns, limit=limit) if row.time_ns < end_ns]
    _signal(scan, "logs", ((("", row.body), *row.attributes.items()) for row in logs), redactor)
    points = [p for p in store.query_metrics(since_ns=start_ns, limit=limit) if p.time_ns < end_ns]
    _signal(scan, "metric_points", (tuple(p.attributes.items()) for p in points), redactor)
    return scan


def _span_values(
    name: str, status: str, attributes: Mapping[str, Any], events: Iterable[Mapping[str, Any]]
) -> tuple[tuple[str, Any], ...]:
    values: list[tuple[str, Any]] = [("", name), ("", status), *attributes.items()]
    for event in events:
        values.append(("", event.get("name", "")))
        values.extend(dict(event.get("attributes") or {}).items())
    return tuple(values)


def _signal(scan: PiiScan, signal: str, records: Iterable[tuple[tuple[str, Any], ...]], redactor: Redactor) -> None:
    """Key "" stands for a whole value (a name, a body): its value is scanned, no key name checked."""
    read = hits = 0
    for values in records:
        read += 1
        tally = Tally()
        for key, value in values:
            if value is None or value == "" or (type(value) is str and _MARKER.fullmatch(value)):
                continue
            if key:
                redactor.redact_entry(key, value, tally)
            else:
                redactor.redact_whole(value, tally)
        found = {name: count for name, count in tally.counts.items() if name != OVERSIZE}  # long, not personal
        if found:
            hits += 1
            for name, count in found.items():
                scan.detectors[name] = scan.detectors.get(name, 0) + count
    scan.scanned[signal] = read
    scan.records_with_findings[signal] = hits
