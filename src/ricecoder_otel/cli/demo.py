"""``ricecoder-otel demo``: run the example shop under the distribution and show what was captured."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import free_port, print_json, printable, progress
from ricecoder_otel.config.secrets import redact_dsn


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the example shop under opentelemetry-instrument and summarise what was captured",
        description="Runs examples/shop under opentelemetry-instrument on the embedded default, drives "
        "realistic traffic at it, then prints what landed where.",
    )
    parser.add_argument("--duration", type=float, default=15.0, metavar="SECONDS", help="traffic duration")
    parser.add_argument("--store", help="store path or postgresql:// DSN (default: a fresh demo store)")
    parser.add_argument("--app", type=Path, help="path of the example app (default: examples/shop/app.py)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(func=run)


def find_example(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    candidates = [
        Path(__file__).resolve().parents[3] / "examples" / "shop" / "app.py",
        Path.cwd() / "examples" / "shop" / "app.py",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "the example shop (examples/shop/app.py) was not found: run the demo from a source checkout or pass --app PATH"
    )


def _instrument_command() -> str:
    beside = Path(sys.executable).parent / "opentelemetry-instrument"
    found = str(beside) if beside.exists() else shutil.which("opentelemetry-instrument")
    if not found:
        raise FileNotFoundError("opentelemetry-instrument is not installed: pip install 'ricecoder-otel[examples]'")
    return found


def _count_prometheus_series(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def _load_traffic(app_path: Path) -> Any:
    """The traffic generator ships beside the example app."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("shop_traffic", app_path.parent / "traffic.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no traffic generator beside {app_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _stop(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGINT, so the app's atexit handlers flush the pipeline; SIGKILL only as a last resort."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: argparse.Namespace) -> int:
    if args.duration <= 0:
        print("ricecoder-otel demo: --duration must be positive", file=sys.stderr)
        return 2
    try:
        app_path = find_example(args.app)
        instrument = _instrument_command()
    except FileNotFoundError as error:
        print(f"ricecoder-otel demo: {error}", file=sys.stderr)
        return 2
    traffic = _load_traffic(app_path)
    workdir = Path(tempfile.mkdtemp(prefix="ricecoder-demo-"))
    store = args.store or str(workdir / "telemetry.db")
    app_port, prom_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        OTEL_SERVICE_NAME="shop",
        OTEL_TRACES_EXPORTER="ricecoder_local",
        OTEL_METRICS_EXPORTER="ricecoder_local,prometheus",
        OTEL_LOGS_EXPORTER="ricecoder_local",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(prom_port),
        OTEL_METRIC_EXPORT_INTERVAL="2000",
        OTEL_BSP_SCHEDULE_DELAY="500",
        RICECODER_STORE_PATH=store,
        SHOP_PORT=str(app_port),
        SHOP_DB=str(workdir / "shop.sqlite3"),
        SHOP_SLOW_SECONDS="0.2",
    )
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "RICECODER_STORE_DSN"):
        env.pop(key, None)
    base = f"http://127.0.0.1:{app_port}"
    started_ns = time.time_ns()
    progress(f"starting the shop under opentelemetry-instrument on {base}")
    log_path = workdir / "app.log"
    with open(log_path, "wb") as app_log:
        process = subprocess.Popen(
            [instrument, sys.executable, str(app_path)], env=env, stdout=app_log, stderr=subprocess.STDOUT
        )
        try:
            traffic.wait_ready(base, timeout_s=60)
            progress(f"driving traffic for {args.duration:.0f}s (several users, a slow report, a flaky payment)")
            stats = traffic.drive(base, args.duration)
            progress(f"sent {stats.requests} requests; waiting for the metric export")
            time.sleep(2.5)
            series = _count_prometheus_series(f"http://127.0.0.1:{prom_port}/metrics")
        except Exception as error:
            _stop(process)
            print(f"ricecoder-otel demo: {error}; the app's output is in {log_path}", file=sys.stderr)
            return 1
        progress("stopping the shop (flushes on exit)")
        _stop(process)

    from ricecoder_otel.anomaly.otel import EVENT_NAME as ANOMALY_EVENT
    from ricecoder_otel.store import StoreError, open_store

    try:
        opened = open_store(store, read_only=True)
        try:
            counts = opened.counts(since_ns=started_ns)
            anomalies = sum(
                1 for log in opened.query_logs(since_ns=started_ns, limit=1_000_000) if log.event_name == ANOMALY_EVENT
            )
        finally:
            opened.close()
    except StoreError as error:
        print(f"ricecoder-otel demo: {printable(redact_dsn(str(error)))}; the app's output is in {log_path}",
              file=sys.stderr)  # fmt: skip
        return 1
    summary = {
        "store": redact_dsn(store),  # a DSN's password stays out of the summary
        "spans": counts.spans,
        "metric_series": counts.metric_series,
        "logs": counts.logs,
        "anomaly_events": anomalies,
        "requests_sent": stats.requests,
        "responses_by_status": stats.as_dict()["by_status"],
        "prometheus_endpoint": f"http://127.0.0.1:{prom_port}/metrics",
        "prometheus_series_at_end": series,
        "app_log": str(log_path),
    }
    if args.json:
        print_json(summary)
    else:
        _print_summary(summary)
    return 0 if counts.spans > 0 else 1


def _print_summary(summary: dict[str, Any]) -> None:
    summary = {k: printable(v) if isinstance(v, str) else v for k, v in summary.items()}
    print("ricecoder-otel demo: what was captured")
    print(f"  requests sent        {summary['requests_sent']}  (by status: {summary['responses_by_status']})")
    print(f"  spans stored         {summary['spans']}")
    print(f"  metric series stored {summary['metric_series']}")
    print(f"  log records stored   {summary['logs']}")
    print(f"  anomaly events       {summary['anomaly_events']}  (detectors need a few minutes of history first)")
    print(f"  store                {summary['store']}")
    print(
        f"  Prometheus endpoint  {summary['prometheus_endpoint']} ({summary['prometheus_series_at_end']} series "
        "at the last scrape; the endpoint closes with the app)"
    )
    print(f"  app output           {summary['app_log']}")
    print("Next: ricecoder-otel query spans --store", summary["store"])
