"""Debian's Prometheus with rule files (and optionally an Alertmanager), for rule-file tests and benchmarks.

Starts the harness' Prometheus, then rewrites its config with the given jobs, ``rule_files``
and ``alerting`` section and reloads it (SIGHUP), and waits until every rule group is loaded.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.harness.prometheus import PrometheusServer, start_prometheus


def start_prometheus_with_rules(
    workdir: Path,
    jobs: Mapping[str, Sequence[str]],
    rule_files: Sequence[Path],
    *,
    interval: str = "1s",
    evaluation_interval: str | None = None,
    alertmanager: str | None = None,
) -> PrometheusServer:
    """Prometheus scraping ``jobs`` (name -> targets) every ``interval`` and evaluating ``rule_files``."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = start_prometheus(workdir, [], scrape_interval=interval)
    lines = [f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {evaluation_interval or interval}",
             f"rule_files: {json.dumps([str(p) for p in rule_files])}", "scrape_configs:"]  # fmt: skip
    for job, targets in jobs.items():
        lines.append(f"  - job_name: {job}\n    static_configs:\n      - targets: {json.dumps(list(targets))}")
    if alertmanager:
        host = alertmanager.removeprefix("http://")
        lines.append(f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{json.dumps(host)}]")
    (workdir / "prometheus.yml").write_text("\n".join(lines) + "\n")
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while len(rule_groups(server)) < len(rule_files):
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"Prometheus did not load the rules:\n{server.log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return server


def rule_groups(server: PrometheusServer) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/api/v1/rules", timeout=5) as response:
        groups: list[dict[str, Any]] = json.load(response)["data"]["groups"]
    return groups


def metric_names(server: PrometheusServer, job: str) -> set[str]:
    """Every metric name Prometheus stores for ``job``."""
    url = f"{server.url}/api/v1/label/__name__/values?match[]=" + urllib.parse.quote(f'{{job="{job}"}}')
    with urllib.request.urlopen(url, timeout=5) as response:
        return set(json.load(response)["data"])
