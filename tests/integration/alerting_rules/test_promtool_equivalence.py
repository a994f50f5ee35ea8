"""The exported rule file is valid for promtool, and Prometheus 2.42 fires the same alerts as our engine.

Each case feeds one minute-by-minute series to our engine and, translated to the names
Prometheus stores, to ``promtool test rules``; the test file expects, at every minute, exactly
the alerts (labels and rendered annotations) our engine had firing then. promtool fails on
any difference.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ricecoder_otel.alerting.promexport import export
from ricecoder_otel.alerting.rules import RuleEngine, prometheus_label
from ricecoder_otel.alerting.series import Hist, MetricSnapshot
from ricecoder_otel.config import AlertRule

PROMTOOL = shutil.which("promtool")
BOUNDS = (0.1, 0.5, 1.0)
ROUTE = (("http.route", "/orders"),)


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool (Debian prometheus package) is required"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def hist(fast: float, slow: float) -> Hist:
    """Cumulative histogram of ``fast`` requests of 50 ms and ``slow`` ones of 700 ms."""
    return Hist(fast + slow, fast * 0.05 + slow * 0.7, BOUNDS, (fast, 0.0, slow, 0.0))


def prom_series(minutes: list[dict[str, MetricSnapshot]]) -> list[dict[str, str]]:
    """promtool ``input_series`` for the snapshots (one per minute) in Prometheus names."""
    names = {"queue.depth": "queue_depth", "ricecoder.http.server.errors": "ricecoder_http_server_errors_total",
             "http.server.request.duration": "http_server_request_duration_seconds"}  # fmt: skip
    rows: dict[str, list[str]] = {}
    for i, snap in enumerate(minutes):
        for metric, data in snap.items():
            for labels, value in data.series.items():
                base = ",".join(f'{prometheus_label(k)}="{v}"' for k, v in labels)
                if isinstance(value, Hist):
                    cumulative = 0.0
                    for bound, count in zip((*BOUNDS, "+Inf"), value.counts, strict=True):
                        cumulative += count
                        le = ",".join(filter(None, [base, f'le="{bound}"']))
                        rows.setdefault(f"{names[metric]}_bucket{{{le}}}", ["_"] * len(minutes))[i] = repr(cumulative)
                    for suffix, number in (("_count", value.count), ("_sum", value.sum)):
                        rows.setdefault(f"{names[metric]}{suffix}{{{base}}}", ["_"] * len(minutes))[i] = repr(number)
                else:
                    rows.setdefault(f"{names[metric]}{{{base}}}", ["_"] * len(minutes))[i] = repr(float(value))
    return [{"series": name, "values": " ".join(values)} for name, values in rows.items()]


def equivalent(tmp_path: Path, rules: list[dict[str, Any]], minutes: list[dict[str, MetricSnapshot]]) -> int:
    """Run both; return how many (minute, alert) expectations promtool confirmed."""
    parsed = [AlertRule.model_validate(r) for r in rules]
    exported = export(parsed, metrics={"queue.depth": ("gauge", "{item}")})
    assert exported.skipped == []
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(exported.document, sort_keys=False))
    checked = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    engine = RuleEngine(parsed, step=60)
    tests: list[dict[str, Any]] = []
    for i, snap in enumerate(minutes):
        engine.tick(snap, now=i * 60.0)
        firing: dict[tuple[str, str], dict[str, Any]] = {}
        for rule, key, instance in engine.instances():  # Prometheus renders annotations at every evaluation
            if instance.state == "firing":
                labels = {prometheus_label(k): v for k, v in instance.labels.items() if k != "alertname"}
                notes = engine.annotations(rule, instance)
                firing[(rule.name, key)] = {"exp_labels": labels, **({"exp_annotations": notes} if notes else {})}
        for rule in parsed:
            alerts = [a for (name, _), a in sorted(firing.items()) if name == rule.name]
            tests.append({"eval_time": f"{i}m", "alertname": rule.name, "exp_alerts": alerts})
    case = {"interval": "1m", "input_series": prom_series(minutes), "alert_rule_test": tests}
    document = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [case]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    result = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return sum(len(t["exp_alerts"]) for t in tests)


def gauge(value: float) -> dict[str, MetricSnapshot]:
    return {"queue.depth": MetricSnapshot("gauge", {(("queue", "mail"),): value})}


def test_threshold_with_for_and_keep_firing_for(tmp_path: Path) -> None:
    rule = {"name": "deep-queue", "metric": "queue.depth", "threshold": 10, "for": "2m", "keep_firing_for": "3m",
            "severity": "critical", "annotations": {"summary": "{{ $labels.queue }} holds {{ $value }}"}}  # fmt: skip
    values = [0, 20, 20, 20, 20, 0, 0, 30, 0, 0, 0, 0, 0, 20, 20, 0, 0, 0, 0, 0]
    confirmed = equivalent(tmp_path, [rule], [gauge(v) for v in values])
    assert confirmed >= 8  # firing from 3m to 11m (kept through the blip), never for the short 13m-14m spell


def test_error_ratio_on_red_metrics(tmp_path: Path) -> None:
    rule = {"name": "errors", "kind": "error_ratio", "metric": "ricecoder.http.server.errors",
            "total_metric": "http.server.request.duration", "window": "5m", "threshold": 0.1, "for": "1m"}  # fmt: skip
    minutes, total, errors = [], 0.0, 0.0
    for minute in range(25):
        total += 100
        errors += 20 if 5 <= minute < 12 else 1
        minutes.append({"http.server.request.duration": MetricSnapshot("histogram", {ROUTE: hist(total, 0)}),
                        "ricecoder.http.server.errors": MetricSnapshot("counter", {ROUTE: errors})})  # fmt: skip
    assert equivalent(tmp_path, [rule], minutes) >= 5


def test_multi_window_burn_rate_with_a_traffic_guard(tmp_path: Path) -> None:
    rule = {"name": "slo", "kind": "burn_rate", "metric": "ricecoder.http.server.errors",
            "total_metric": "http.server.request.duration", "objective": 0.99, "min_events": 300,
            "burn_windows": [{"long": "10m", "short": "2m", "factor": 5}, {"long": "20m", "short": "4m", "factor": 2}],
            "annotations": {"summary": "burning {{ $value | humanize }}x"}}  # fmt: skip
    minutes, total, errors = [], 0.0, 0.0
    for minute in range(45):
        total += 10 if minute < 5 else 100  # the guard holds the first minutes back
        errors += 8 if 8 <= minute < 16 else (4 if 25 <= minute < 33 else 0)
        minutes.append({"http.server.request.duration": MetricSnapshot("histogram", {ROUTE: hist(total, 0)}),
                        "ricecoder.http.server.errors": MetricSnapshot("counter", {ROUTE: errors})})  # fmt: skip
    assert equivalent(tmp_path, [rule], minutes) >= 10


def test_route_p95_from_histogram_buckets(tmp_path: Path) -> None:
    rule = {"name": "orders-slow", "metric": "http.server.request.duration", "match": {"http.route": "/orders"},
            "group_by": ["http.route"], "aggregation": "quantile", "quantile": 0.95, "window": "5m",
            "threshold": 0.5, "for": "2m",
            "annotations": {"summary": "p95 {{ $labels.http_route }} {{ $value | humanizeDuration }}"}}  # fmt: skip
    minutes, fast, slow = [], 0.0, 0.0
    for minute in range(20):
        fast += 50
        slow += 10 if 4 <= minute < 9 else 0
        minutes.append({"http.server.request.duration": MetricSnapshot("histogram", {ROUTE: hist(fast, slow)})})
    assert equivalent(tmp_path, [rule], minutes) >= 3


def test_kinds_prometheus_cannot_express_are_skipped_with_the_reason() -> None:
    rules = [AlertRule.model_validate({"name": "a", "kind": "absence", "metric": "http.server.request.duration"}),
             AlertRule.model_validate({"name": "b", "metric": "shop.queue", "threshold": 1}),
             AlertRule.model_validate({"name": "c", "kind": "composite", "rules": ["a", "b"]})]  # fmt: skip
    exported = export(rules)
    assert exported.document["groups"][0]["rules"] == []
    assert dict(exported.skipped) == {
        "a": "in-process absence counts new measurements; Prometheus sees a flat cumulative series as present",
        "b": "unknown metric 'shop.queue': its kind and unit decide its Prometheus name",
        "c": "composite rules combine in-process conditions; write the PromQL `and`/`or` by hand",
    }
