"""``ricecoder-otel rules check`` and ``rules export``: located problems, Prometheus names, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.cli import main

GOOD = """\
rules:
  - name: orders-p95
    metric: http.server.request.duration
    match: {http.route: /orders}
    group_by: [http.route]
    aggregation: quantile
    quantile: 0.95
    threshold: 0.5
    keep_firing_for: 5m
  - name: queue
    metric: shop.queue
    threshold: 3
"""

BAD = """\
alerting:
  rules:
    - name: a
      metric: m
      threshold: 1
      fore: 1m
    - name: b
      kind: burn_rate
      metric: errors
    - name: a
      metric: m
      threshold: 2
"""


def test_check_lists_every_problem_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BAD)
    assert main(["rules", "check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = {(f["path"], f["source"].rsplit(":", 1)[1], f["message"]) for f in report["findings"]}
    assert found == {
        ("alerting.rules[0].fore", "6", "unknown key (did you mean 'for'?)"),
        ("alerting.rules[1].total_metric", "7", "required key missing"),  # not in the file: the rule's line
        ("alerting.rules[1].objective", "7", "required key missing"),
        ("alerting.rules[2].name", "10", "duplicate rule name 'a'"),
    }


def test_unknown_metrics_warn_and_export_writes_prometheus_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    assert main(["rules", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {path}:11: alerting.rules[1].metric: unknown metric 'shop.queue'" in out
    assert main(["rules", "export", "--format", "prometheus", str(path)]) == 0
    captured = capsys.readouterr()
    assert 'http_server_request_duration_seconds_bucket{http_route="/orders"}[5m]' in captured.out
    assert "keep_firing_for: 5m" in captured.out
    assert "skipped queue: unknown metric 'shop.queue'" in captured.err
    path.write_text(BAD)
    assert main(["rules", "export", str(path)]) == 2
