"""Requests per second of a Flask app on gunicorn: uninstrumented, under opentelemetry-distro,
under ricecoder-otel.

Each configuration runs the app on gunicorn (one sync worker) and is loaded by
``wrk`` for the same duration; configurations alternate over several rounds and
the median is recorded, with the per-round ratios.

Two modes, one sink for both distributions in each:

``--mode local`` (default)
    Both export to the embedded store through the ``ricecoder_local`` entry
    points, which compose with either distro.
``--mode collector``
    Both export OTLP/HTTP (``http/protobuf``) to one real OpenTelemetry
    Collector on loopback (our build, ``ricecoder-otel collector build``; an
    OTLP receiver, the batch processor and a quiet debug exporter). Traces,
    metrics and logs go over OTLP on both sides.

In both modes both sides get the same ``OTEL_METRIC_EXPORT_INTERVAL``
(``--metric-interval-ms``; ricecoder's default is 10 s, the SDK's 60 s) and the
same installed instrumentations (whatever the virtualenv holds: flask, wsgi,
sqlite3, logging, system metrics). Everything else is each distribution's own
default: ricecoder's ``OTEL_SEMCONV_STABILITY_OPT_IN=http``, RED metrics,
anomaly feed and self-telemetry are part of what is measured. ``--set`` adds a
variable to one configuration, for experiments (``--set ricecoder-otel:X=Y``).

The app is the example shop (``--app shop``, ``GET /products/1`` reads SQLite)
or a third-party-style Flask app that does not import ricecoder and logs one
INFO line per request (``--app plain``, :mod:`benchmarks.overhead.plain_app`).
Besides requests/s, the CPU the gunicorn worker (and, in collector mode, the
collector) spent per request is recorded.

``--pin 1,0`` runs the app on CPU 1 and the load generator and the collector on CPU 0
(``taskset``), the same for every configuration, so that they stop taking turns on the app's
CPU; on a 2-core machine that is most of the round-to-round noise.

    python -m benchmarks.overhead.rps [--mode local|collector] [--app shop|plain]
        [--seconds 10] [--rounds 3] [--path /products/1] [--metric-interval-ms 10000] [--pin 1,0]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.overhead.record import record_result
from ricecoder_otel.cli._util import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
BIN = Path(sys.executable).parent
APPS = {"shop": (SHOP, "app:app"), "plain": (Path(__file__).resolve().parent, "plain_app:app")}

LOCAL = {
    "OTEL_TRACES_EXPORTER": "ricecoder_local",
    "OTEL_METRICS_EXPORTER": "ricecoder_local",
    "OTEL_LOGS_EXPORTER": "ricecoder_local",
}
OTLP = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    # opentelemetry-distro defaults to grpc, ricecoder to http/protobuf: pin one for both.
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
}
DISTROS = {
    "uninstrumented": None,
    "opentelemetry-distro": {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator"},
    "ricecoder-otel": {"OTEL_PYTHON_DISTRO": "ricecoder_otel", "OTEL_PYTHON_CONFIGURATOR": "ricecoder_otel"},
}

COLLECTOR_CONFIG = """\
extensions:
  health_check:
    endpoint: ${env:BENCH_HEALTH_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:BENCH_OTLP_HTTP_ENDPOINT}
processors:
  batch: {}
exporters:
  debug:
    verbosity: basic
    sampling_initial: 1
    sampling_thereafter: 1000
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
"""


@dataclass
class Sample:
    req_per_s: float
    worker_cpu_us_per_req: float
    collector_cpu_us_per_req: float | None


@dataclass
class Collector:
    process: subprocess.Popen[bytes]
    endpoint: str
    log: Path

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)


@contextmanager
def collector(workdir: Path, prefix: Sequence[str] = ()) -> Iterator[Collector]:
    """Our collector build on loopback (OTLP/HTTP in, debug out), stopped by PID afterwards."""
    from ricecoder_otel.collector.build import require_binary

    binary = require_binary()
    config = workdir / "collector.yaml"
    config.write_text(COLLECTOR_CONFIG)
    health, otlp = free_port(), free_port()
    env = {
        **os.environ,
        "BENCH_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
        "BENCH_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{otlp}",
    }
    log = workdir / "collector.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*prefix, str(binary), f"--config={config}"], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
    handle = Collector(process, f"http://127.0.0.1:{otlp}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the collector exited during start-up:\n{log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the collector was not ready in 60s:\n{log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield handle
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def environment(name: str, args: argparse.Namespace, workdir: Path, sink: Collector | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(
        SHOP_DB=str(workdir / "shop.sqlite3"),
        RICECODER_STORE_PATH=str(workdir / f"{name}.db"),
        OTEL_SERVICE_NAME="bench-app",
    )
    distro = DISTROS[_base(name, args)]
    if distro is not None:
        env.update(distro, OTEL_METRIC_EXPORT_INTERVAL=str(args.metric_interval_ms))
        if sink is None:
            env.update(LOCAL)
        else:
            env.update(OTLP, OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint)
    for setting in args.set:
        target, _, assignment = setting.partition(":")
        key, _, value = assignment.partition("=")
        if target == name:
            env[key] = value
    return env


def _base(name: str, args: argparse.Namespace) -> str:
    """The distribution a configuration runs: its own name, or the base of an ``--variant``."""
    return dict(v.split("=", 1) for v in args.variant).get(name, name)  # type: ignore[arg-type]


def _wait_ready(base: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app at {base} did not answer /health within {timeout_s:.0f}s")
        time.sleep(0.05)


def _worker(master: psutil.Process) -> psutil.Process:
    deadline = time.monotonic() + 30
    while not (children := master.children()):
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn started no worker")
        time.sleep(0.05)
    return children[0]


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(name: str, args: argparse.Namespace, workdir: Path, sink: Collector | None) -> Sample:
    app_dir, app = APPS[args.app]
    port = free_port()
    argv = [sys.executable, str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", app]
    if DISTROS[_base(name, args)] is not None:
        argv = [str(BIN / "opentelemetry-instrument"), *argv]
    argv = [*pinned(args, "app"), *argv]
    wrk = [*pinned(args, "load"), "wrk", "-t1", "-c4"]
    env = environment(name, args, workdir, sink)
    process = subprocess.Popen(argv, env=env, cwd=app_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base)
        worker = _worker(psutil.Process(process.pid))
        subprocess.run([*wrk, "-d2s", base + args.path], check=True, capture_output=True)  # warm-up
        worker_cpu = _cpu(worker)
        collector_cpu = sink.cpu_seconds() if sink is not None else 0.0
        out = subprocess.run(
            [*wrk, f"-d{args.seconds}s", base + args.path], check=True, capture_output=True, text=True
        ).stdout
        worker_cpu = _cpu(worker) - worker_cpu
        collector_cpu = sink.cpu_seconds() - collector_cpu if sink is not None else 0.0
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    requests = max(1, int(total.group(1)))
    return Sample(
        float(rate.group(1)),
        worker_cpu * 1e6 / requests,
        collector_cpu * 1e6 / requests if sink is not None else None,
    )


def pinned(args: argparse.Namespace, role: str) -> list[str]:
    """``taskset`` for ``role`` under ``--pin``: the app (gunicorn and its worker) on one CPU, the
    load generator and the collector on the other, so they stop taking turns on the app's CPU."""
    if not args.pin:
        return []
    app_cpu, load_cpu = args.pin.split(",")
    return ["taskset", "-c", app_cpu if role == "app" else load_cpu]


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("local", "collector"), default="local")
    parser.add_argument("--app", choices=sorted(APPS), default="shop")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="/products/1")
    parser.add_argument("--metric-interval-ms", type=int, default=10_000)
    parser.add_argument("--no-uninstrumented", action="store_true", help="skip the uninstrumented baseline")
    parser.add_argument("--set", action="append", default=[], metavar="CONFIG:VAR=VALUE")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=BASE",
        help="an extra configuration running BASE's distribution, changed with --set LABEL:VAR=VALUE",
    )
    parser.add_argument("--name", help="result file name (default: rps, or rps-collector in collector mode)")
    parser.add_argument(
        "--pin",
        metavar="APP_CPU,LOAD_CPU",
        help="pin the app to APP_CPU and wrk and the collector to LOAD_CPU with taskset (e.g. 1,0)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    names = [n for n in DISTROS if not (args.no_uninstrumented and n == "uninstrumented")]
    names += [v.split("=", 1)[0] for v in args.variant]
    workdir = Path(tempfile.mkdtemp(prefix="ricecoder-rps-"))
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    if args.pin and (shutil.which("taskset") is None or not re.fullmatch(r"\d+,\d+", args.pin)):
        print("--pin needs taskset (util-linux) and two CPU numbers, e.g. --pin 1,0", file=sys.stderr)
        return 2
    with collector(workdir, pinned(args, "load")) if args.mode == "collector" else _nothing() as sink:
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else list(reversed(names))
            for name in order:
                samples[name].append(measure(name, args, workdir, sink))
                s = samples[name][-1]
                print(
                    f"round {round_no + 1}/{args.rounds} {name}: {s.req_per_s:.0f} req/s, "
                    f"worker {s.worker_cpu_us_per_req:.0f} us/req"
                    + (f", collector {s.collector_cpu_us_per_req:.0f} us/req" if sink is not None else ""),
                    file=sys.stderr,
                )
    rps = {name: [s.req_per_s for s in values] for name, values in samples.items()}
    fields_variants: dict[str, object] = {}
    medians = {name: statistics.median(values) for name, values in rps.items()}
    per_round = [r / d for r, d in zip(rps["ricecoder-otel"], rps["opentelemetry-distro"], strict=True)]
    for label in names[len(names) - len(args.variant) :]:
        ratios = [r / d for r, d in zip(rps[label], rps["opentelemetry-distro"], strict=True)]
        fields_variants[label] = {
            "ratio_to_opentelemetry_distro": round(statistics.median(rps[label]) / medians["opentelemetry-distro"], 3),
            "per_round_ratio": [round(r, 3) for r in ratios],
        }
    ratio = medians["ricecoder-otel"] / medians["opentelemetry-distro"]
    worker_cpu = {name: statistics.median(s.worker_cpu_us_per_req for s in v) for name, v in samples.items()}
    fields: dict[str, object] = {
        "mode": args.mode,
        "app": args.app,
        "load": f"wrk -t1 -c4 -d{args.seconds}s GET {args.path}; gunicorn, 1 sync worker",
        "pinned": f"app on CPU {args.pin.split(',')[0]}, wrk and collector on CPU {args.pin.split(',')[1]}"
        if args.pin
        else "no",
        "sink": "embedded store (ricecoder_local) for both"
        if args.mode == "local"
        else "OTLP http/protobuf to one collector on loopback for both (traces, metrics, logs)",
        "metric_export_interval_ms": args.metric_interval_ms,
        "extra_settings": args.set,
        "samples_req_per_s": rps,
        "median_req_per_s": {k: round(v, 1) for k, v in medians.items()},
        "per_round_ratio_ricecoder_to_opentelemetry_distro": [round(r, 3) for r in per_round],
        "ratio_ricecoder_to_opentelemetry_distro": round(ratio, 3),
        "median_worker_cpu_us_per_request": {k: round(v) for k, v in worker_cpu.items()},
        # Requests per CPU-second of the worker, relative: what the ratio would be if both got the same CPU.
        "worker_cpu_efficiency_ricecoder_to_opentelemetry_distro": round(
            worker_cpu["opentelemetry-distro"] / worker_cpu["ricecoder-otel"], 3
        ),
    }
    if fields_variants:
        fields["variants"] = {"bases": args.variant, **fields_variants}
    if args.mode == "collector":
        fields["median_collector_cpu_us_per_request"] = {
            name: round(statistics.median(s.collector_cpu_us_per_req or 0.0 for s in v)) for name, v in samples.items()
        }
    if "uninstrumented" in medians:
        fields["ratio_ricecoder_to_uninstrumented"] = round(medians["ricecoder-otel"] / medians["uninstrumented"], 3)
    target = 0.95 if args.mode == "collector" else 0.9
    fields.update(
        per_round_ratio_spread=_spread(per_round),
        target_ratio=target,
        meets_target=ratio >= target,
    )
    default_name = "rps" if args.mode == "local" else "rps-collector"
    record_result(args.name or default_name, "benchmarks.overhead.rps", argv, fields)
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
