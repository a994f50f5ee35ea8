"""Alert latency: from a gauge crossing its threshold to a loopback webhook holding the notification.

One application process (``benchmarks/alerting/app.py`` under ``opentelemetry-instrument``) has
the gauge ``bench.level``; each trial sets a new series (``trial=N``) above the threshold of one
rule, ``bench.level > 0.5``. In the same run the same rule is evaluated two ways, and each path's
webhook records when the trial's first notification arrives:

- ``ricecoder``: the in-process loop with the default configuration (``evaluation_interval`` 1 s,
  the root route's ``group_wait`` 0s, default delivery) to a webhook channel. The one setting given
  is the route's ``group_by: [alertname, trial]``, the same as Alertmanager's below, so that each
  trial is its own alert group on both paths (an alert joining a group that was already notified
  waits ``group_interval`` on both);
- ``prometheus``: Debian's Prometheus scraping the app's Prometheus endpoint every 15 s,
  evaluating the file ``ricecoder-otel rules export`` writes every 15 s, and Debian's Alertmanager
  (``group_wait: 30s``, as commonly deployed) delivering to a webhook.

Trials start ``--gap`` seconds apart and overlap; each is its own alert group on every path. The
default gap, 3.95 s, puts 20 trials' onsets almost evenly over both the 1 s evaluation cycle and the
15 s scrape cycle (no gap between neighbouring phases over 1.07x the even spacing), so each path's
p95 is the p95 of a uniformly random onset. The earlier 3.7 s covered the 1 s cycle at twice the
even spacing but the 15 s cycle only in four clusters (3.7 x 4 = 14.8), leaving its slowest 3 s
unsampled. Usage:

    .venv/bin/python -m benchmarks.alerting.latency [--trials 20] [--gap 3.95]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ricecoder_otel.cli import main as cli
from ricecoder_otel.cli._util import free_port
from tests.harness.alertmanager import start_alertmanager
from tests.integration.alerting_rules.prometheus_rules import start_prometheus_with_rules

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RULES = """\
rules:
  - name: bench-level
    metric: bench.level
    group_by: [trial]
    threshold: 0.5
    severity: critical
"""
RICECODER = """\
alerting:
  rules:
    - name: bench-level
      metric: bench.level
      group_by: [trial]
      threshold: 0.5
      severity: critical
  channels:
    - {{name: default, type: webhook, url: "{url}/ricecoder"}}
  incidents: {{enabled: false}}
  route:
    group_by: [alertname, trial]
"""
ALERTMANAGER = """\
route:
  receiver: hook
  group_by: [alertname, trial]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}/prometheus
"""
PATHS = ("ricecoder", "prometheus")


class Arrivals:
    """A loopback webhook that notes when each path first hears of each trial."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with arrivals.lock:
                    for alert in body.get("alerts", []):
                        if alert.get("status") == "firing":
                            arrivals.first.setdefault((self.path.strip("/"), alert["labels"]["trial"]), at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self) -> int:
        with self.lock:
            return len(self.first)


def start_app(workdir: Path, config: Path, port: int, metrics_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(BENCH_PORT=str(port), OTEL_SERVICE_NAME="bench", OTEL_METRICS_EXPORTER="prometheus",
               OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1", OTEL_EXPORTER_PROMETHEUS_PORT=str(metrics_port),
               OTEL_TRACES_EXPORTER="none", OTEL_LOGS_EXPORTER="none", RICECODER_CONFIG_FILE=str(config),
               RICECODER_STORE_PATH=str(workdir / "telemetry.db"))  # fmt: skip
    log = open(workdir / "app.log", "wb")  # noqa: SIM115 - the child writes to it until it exits
    argv = [str(BIN / "opentelemetry-instrument"), sys.executable, str(REPO / "benchmarks/alerting/app.py")]
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit((workdir / "app.log").read_text()[-3000:]) from None
            time.sleep(0.1)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": p95, "min": ordered[0], "max": ordered[-1]}


def run(trials: int, gap: float, workdir: Path) -> dict[str, Any]:
    arrivals = Arrivals()
    rules = workdir / "rules.yaml"
    rules.write_text(RULES)
    exported = workdir / "bench.rules.yml"
    export_args = ["rules", "export", "--format", "prometheus", "--via", "scrape", "--metric", "bench.level=gauge:1",
                   str(rules), "-o", str(exported)]  # fmt: skip
    if cli(export_args) != 0:
        raise SystemExit("rules export failed")
    config = workdir / "ricecoder.yaml"
    config.write_text(RICECODER.format(url=arrivals.url))
    port, metrics_port = free_port(), free_port()
    am = start_alertmanager(workdir, ALERTMANAGER.format(url=arrivals.url))
    app = start_app(workdir, config, port, metrics_port)
    prometheus = start_prometheus_with_rules(workdir / "prometheus", {"app": [f"127.0.0.1:{metrics_port}"]}, [exported],
                                             interval="15s", alertmanager=am.url)  # fmt: skip
    onsets: dict[str, float] = {}
    try:
        time.sleep(20)  # Prometheus' first scrapes and evaluations happen before the first trial
        first = time.monotonic()
        for n in range(trials):
            # On a fixed schedule: the time a request takes must not add to the gap (a 50 ms request
            # would turn 3.95 s into 4.0 s, the same phase of the 1 s cycle for every trial).
            time.sleep(max(0.0, first + n * gap - time.monotonic()))
            trial = f"t{n:02d}"
            print(f"trial {trial}", file=sys.stderr)
            onsets[trial] = time.time()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/level?trial={trial}&value=1", method="POST")
            urllib.request.urlopen(request, timeout=10).close()
        deadline = time.monotonic() + 180
        while arrivals.count() < trials * len(PATHS) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        prometheus.stop()
        app.send_signal(signal.SIGINT)
        try:
            app.wait(30)
        except subprocess.TimeoutExpired:
            app.kill()
        am.stop()
    latencies = {path: [arrivals.first[(path, t)] - at for t, at in onsets.items() if (path, t) in arrivals.first]
                 for path in PATHS}  # fmt: skip
    result: dict[str, Any] = {path: summary(values) for path, values in latencies.items() if values}
    result["missing"] = {path: trials - len(values) for path, values in latencies.items()}
    result["raw_seconds"] = {path: [round(v, 4) for v in values] for path, values in latencies.items()}
    result["exported_rule"] = exported.read_text()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--gap", type=float, default=3.95, help="seconds between trial starts")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/alerting-latency.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="alert-latency-") as tmp:
        result = run(args.trials, args.gap, Path(tmp))
    load_after = os.getloadavg()
    ours, prom = (result.get(p, {}) for p in PATHS)
    result["ratios"] = {
        "prometheus_p50_over_ricecoder_p50": prom.get("p50", 0) / ours["p50"] if ours else None,
        "prometheus_p95_over_ricecoder_p95": prom.get("p95", 0) / ours["p95"] if ours else None,
    }
    result["command"] = f"python -m benchmarks.alerting.latency --trials {args.trials} --gap {args.gap}"
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                         "load_1m_before": round(load_before[0], 2),
                         "load_1m_after": round(load_after[0], 2)}  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("raw_seconds", "exported_rule")}, indent=2))


if __name__ == "__main__":
    main()
