"""The shipped pipeline end to end: a service -> agent -> load balancing layer -> two tail samplers -> files."""

from __future__ import annotations

import math
import re
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.collector import (
    Topology,
    attributes,
    audit_ids_in,
    iter_logs,
    iter_spans,
    start_topology,
    telemetry_value,
    traces_decided,
    wait_until,
)

SAMPLING_PERCENTAGE = 30
HEALTHY_TRACES = 300
SPANS_PER_TRACE = 5
EMAIL = "jane.doe@example.com"
JWT_SIGNATURE = "c2lnbmF0dXJl"


@dataclass
class Run:
    topology: Topology
    sent: list[dict[str, Any]]
    # trace id -> {sampler index -> span count}
    placement: dict[str, dict[int, int]]

    def ids(self, kind: str) -> list[str]:
        return [trace_id for summary in self.sent for trace_id in summary["traces"][kind]]

    def audit_ids(self) -> list[str]:
        return [record_id for summary in self.sent for record_id in summary["audit_ids"]]


def _placement(topology: Topology) -> dict[str, dict[int, int]]:
    placement: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for index in range(len(topology.samplers)):
        for _, span in iter_spans(topology.sampler_out(index) / "traces.jsonl"):
            placement[span["traceId"]][index] += 1
    return placement


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    topology = start_topology(tmp_path_factory.mktemp("pipeline"), sampling_percentage=SAMPLING_PERCENTAGE)
    try:
        sent = [
            topology.send(
                f"--healthy-traces={HEALTHY_TRACES}", "--error-traces=20", "--slow-traces=5", "--anomaly-traces=5",
                f"--spans-per-trace={SPANS_PER_TRACE}", "--pii", "--audit=50", "--audit-prefix=grpc",
            ),
            topology.send("--error-traces=5", "--audit=20", "--audit-prefix=http", protocol="http/protobuf"),
        ]  # fmt: skip
        must_keep = {t for s in sent for kind in ("error", "slow", "anomaly", "pii") for t in s["traces"][kind]}

        def complete() -> bool:
            placement = _placement(topology)
            return all(sum(placement.get(t, {}).values()) >= SPANS_PER_TRACE for t in must_keep)

        wait_until(complete, "every error, slow, anomalous trace with all its spans in a sampler's file", 90)
        every_trace = sum(len(ids) for summary in sent for ids in summary["traces"].values())
        wait_until(
            lambda: sum(traces_decided(sampler) for sampler in topology.samplers) >= every_trace,
            f"the samplers' decisions on all {every_trace} traces",
            90,
        )
        kept = sum(
            telemetry_value(sampler, "otelcol_processor_tail_sampling_global_count_traces_sampled", sampled="true")
            for sampler in topology.samplers
        )

        def kept_traces_written() -> bool:
            placement = _placement(topology)
            whole = [t for t, per_sampler in placement.items() if sum(per_sampler.values()) >= SPANS_PER_TRACE]
            return len(whole) >= kept

        wait_until(kept_traces_written, "every kept trace, whole, in a sampler's file", 60)
        yield Run(topology, sent, _placement(topology))
    finally:
        topology.stop()


def test_all_spans_of_a_trace_land_on_the_same_sampler(run: Run) -> None:
    assert run.placement, "no trace reached any sampler"
    for trace_id, per_sampler in run.placement.items():
        assert len(per_sampler) == 1, f"trace {trace_id} split across samplers {dict(per_sampler)}"
        assert sum(per_sampler.values()) == SPANS_PER_TRACE, f"trace {trace_id}: {dict(per_sampler)}"
    used = {index for per_sampler in run.placement.values() for index in per_sampler}
    assert used == {0, 1}, "the load balancer should spread traces over both samplers"


def test_every_error_slow_and_flagged_trace_is_kept(run: Run) -> None:
    for kind in ("error", "slow", "anomaly", "pii"):
        missing = [t for t in run.ids(kind) if t not in run.placement]
        assert not missing, f"{len(missing)} {kind} traces were dropped: {missing[:3]}"


def test_healthy_traces_are_kept_at_the_configured_rate(run: Run) -> None:
    healthy = run.ids("healthy")
    kept = sum(1 for t in healthy if t in run.placement)
    rate = SAMPLING_PERCENTAGE / 100
    expected = len(healthy) * rate
    tolerance = 4.5 * math.sqrt(len(healthy) * rate * (1 - rate))  # binomial; false alarm < 1e-5
    assert abs(kept - expected) <= tolerance, f"kept {kept} of {len(healthy)}, expected {expected:.0f}±{tolerance:.0f}"


def test_audit_records_reach_the_archive_and_their_own_pipeline(run: Run) -> None:
    sent = sorted(run.audit_ids())
    topology = run.topology
    wait_until(lambda: set(sent) <= set(audit_ids_in(topology.agent_archive)), "audit records in the agent archive")
    wait_until(lambda: set(sent) <= set(audit_ids_in(topology.front_out / "audit.jsonl")), "audit records at gateway")
    # The audit pipeline is separate: no audit record in the general logs file, no other log in the audit files.
    assert not audit_ids_in(topology.front_out / "logs.jsonl")
    for path in (topology.agent_archive, topology.front_out / "audit.jsonl"):
        assert all(r.get("eventName") == "ricecoder.audit" for _, r in iter_logs(path))
    general = [r for _, r in iter_logs(topology.front_out / "logs.jsonl")]
    assert any("declined card" in str(r.get("body")) for r in general)


def _sink_files(topology: Topology) -> list[Path]:
    files = [p for p in topology.workdir.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".log")]
    assert any(p.name == "traces.jsonl" for p in files)
    return files


def test_pii_reaches_no_sink(run: Run) -> None:
    card = re.compile(r"4111[ -]?1111[ -]?1111[ -]?1111")
    for path in _sink_files(run.topology):
        text = path.read_text(errors="replace")
        assert EMAIL not in text, f"{path} holds the email address"
        assert not card.search(text), f"{path} holds the card number"
        assert JWT_SIGNATURE not in text, f"{path} holds the JWT"
    # The span did arrive (it is an error trace), masked rather than dropped.
    (pii_trace,) = run.ids("pii")
    spans = [
        span
        for index in range(len(run.topology.samplers))
        for _, span in iter_spans(run.topology.sampler_out(index) / "traces.jsonl")
        if span["traceId"] == pii_trace
    ]
    root = next(span for span in spans if not span.get("parentSpanId"))
    assert attributes(root)["user.email"] == "****"
    assert attributes(root)["payment.card"] == "****"
    assert attributes(root)["note"] == "session ****"
    assert "****" in root["name"]


def test_agent_exposes_metrics_for_prometheus_without_pii(run: Run) -> None:
    url = f"http://{run.topology.agent.env['AGENT_PROMETHEUS_ENDPOINT']}/metrics"

    def scraped() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    wait_until(lambda: "ricecoder_e2e_requests_total" in scraped(), "the sender's counter on the agent endpoint")
    text = scraped()
    assert EMAIL not in text
    assert 'customer="****"' in text


def test_collectors_log_no_deprecation_or_error(run: Run) -> None:
    for handle in run.topology.all:
        for line in handle.log().splitlines():
            level = line.split("\t")[1] if line.count("\t") > 2 else ""
            assert "deprecated" not in line.lower(), f"{handle.name}: {line[:300]}"
            assert level != "error", f"{handle.name}: {line[:300]}"
