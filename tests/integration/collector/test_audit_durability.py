"""No audit record is lost when the gateway is down for a while or the agent is killed."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.harness.collector import Topology, audit_ids_in, wait_until

OUTAGE_S = 30.0
AUDIT_RATE = 20.0  # records per second, before, during and after the outage


def gateway_outage(topology: Topology, outage_s: float, tail_s: float = 10.0) -> dict[str, Any]:
    """Emit audit records steadily while the gateway is stopped for ``outage_s``; returns the counts."""
    archive = topology.front_out / "audit.jsonl"
    count = int((5.0 + outage_s + tail_s) * AUDIT_RATE)
    result: dict[str, Any] = {}
    sender = threading.Thread(
        target=lambda: result.update(
            topology.send(f"--audit={count}", f"--audit-rate={AUDIT_RATE}", "--audit-prefix=outage")
        )
    )
    sender.start()
    wait_until(lambda: bool(audit_ids_in(archive)), "the first audit records at the gateway before the outage")
    topology.front.stop()
    at_stop = set(audit_ids_in(archive))
    wait_until(lambda: _queue_size(topology) > 0, "the agent's persistent audit queue holding records")
    time.sleep(outage_s)  # the outage itself: records keep coming while the next hop is down
    queued = _queue_size(topology)
    # What the agent accepted while the gateway was down and the gateway had not seen when it came back.
    held = set(audit_ids_in(topology.agent_archive)) - set(audit_ids_in(archive))
    topology.front.restart()
    sender.join(timeout=600)
    assert result, "the sender did not finish"
    sent = set(result["audit_ids"])
    wait_until(lambda: sent <= set(audit_ids_in(archive)), "every audit record at the gateway after the outage", 180)
    copies = Counter(audit_ids_in(archive))
    return {
        "sent": len(sent),
        "received_unique": len(set(copies) & sent),
        "duplicates": sum(n - 1 for n in copies.values() if n > 1),
        "duplicate_ids": sorted(i for i, n in copies.items() if n > 1)[:20],
        "at_gateway_before_outage": len(at_stop & sent),
        "held_during_outage": len(held & sent),
        "delivered_after_outage": len(held & set(copies)),
        "agent_queue_at_end_of_outage": queued,
    }


def test_no_audit_record_is_lost_while_the_gateway_is_down(topology_factory: Callable[..., Topology]) -> None:
    topology = topology_factory(samplers=1)
    report = gateway_outage(topology, OUTAGE_S)
    print("gateway outage:", json.dumps(report))  # duplicates are reported, consumers drop them by id
    (topology.workdir / "outage-report.json").write_text(json.dumps(report))
    assert report["received_unique"] == report["sent"]
    # The outage really held records back: most of the records sent during it were queued by
    # the agent while the gateway had none of them, and every one of them arrived afterwards.
    assert report["at_gateway_before_outage"] > 0
    assert report["held_during_outage"] >= 0.5 * AUDIT_RATE * OUTAGE_S
    assert report["delivered_after_outage"] == report["held_during_outage"]
    assert report["agent_queue_at_end_of_outage"] > 0


def _queue_size(topology: Topology) -> float:
    """The agent's audit queue size from its own telemetry (0 when not reported yet)."""
    url = f"http://127.0.0.1:{topology.agent.env['AGENT_TELEMETRY_PORT']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    sizes = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("otelcol_exporter_queue_size") and 'exporter="otlp_grpc/audit"' in line
    ]
    return max(sizes, default=0.0)


def test_queued_audit_records_survive_an_agent_kill(topology_factory: Callable[..., Topology]) -> None:
    topology = topology_factory(samplers=1)
    topology.front.stop()  # the next hop is down: the agent keeps audit records in its disk queue
    # Spread over two seconds: many small requests, more than the two consumers can hold in flight.
    sent = topology.send("--audit=100", "--audit-rate=50", "--audit-prefix=crash")["audit_ids"]
    wait_until(lambda: set(sent) <= set(audit_ids_in(topology.agent_archive)), "the records in the agent archive")
    wait_until(lambda: _queue_size(topology) > 0, "the agent's persistent audit queue holding records")
    topology.agent.kill()  # SIGKILL: nothing is drained
    topology.front.restart()
    topology.agent.restart()
    archive = topology.front_out / "audit.jsonl"
    wait_until(lambda: set(sent) <= set(audit_ids_in(archive)), "the queued records delivered after restart", 120)
    assert not audit_ids_in(topology.front_out / "logs.jsonl")
