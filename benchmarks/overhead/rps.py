"""Requests per second of the example shop: uninstrumented, under opentelemetry-distro,
under ricecoder-otel.

Each configuration runs the shop on gunicorn (one sync worker) and is loaded by
``wrk`` for the same duration; configurations alternate over several rounds and
the median is recorded. Both instrumented runs use the same exporters (the
embedded store, through the ``ricecoder_local`` entry points, which compose with
either distro), so the comparison is of the pipelines, not of the sinks.

    python -m benchmarks.overhead.rps [--seconds 10] [--rounds 3] [--path /products/1]
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
from pathlib import Path

from benchmarks.overhead.record import record_result
from ricecoder_otel.cli._util import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(SHOP))
import traffic  # noqa: E402

LOCAL = {
    "OTEL_TRACES_EXPORTER": "ricecoder_local",
    "OTEL_METRICS_EXPORTER": "ricecoder_local",
    "OTEL_LOGS_EXPORTER": "ricecoder_local",
}
CONFIGURATIONS: dict[str, tuple[bool, dict[str, str]]] = {
    "uninstrumented": (False, {}),
    "opentelemetry-distro": (
        True,
        {"OTEL_PYTHON_DISTRO": "distro", "OTEL_PYTHON_CONFIGURATOR": "configurator", **LOCAL},
    ),
    "ricecoder-otel": (
        True,
        {"OTEL_PYTHON_DISTRO": "ricecoder_otel", "OTEL_PYTHON_CONFIGURATOR": "ricecoder_otel", **LOCAL},
    ),
}


def measure(name: str, seconds: int, path: str, workdir: Path) -> float:
    instrument, extra = CONFIGURATIONS[name]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(
        extra,
        SHOP_DB=str(workdir / "shop.sqlite3"),
        RICECODER_STORE_PATH=str(workdir / f"{name}.db"),
        OTEL_SERVICE_NAME="shop",
    )
    argv = [sys.executable, str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:app"]
    if instrument:
        argv = [str(BIN / "opentelemetry-instrument"), *argv]
    process = subprocess.Popen(argv, env=env, cwd=SHOP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        traffic.wait_ready(base, timeout_s=60)
        subprocess.run(["wrk", "-t1", "-c4", "-d2s", base + path], check=True, capture_output=True)  # warm-up
        out = subprocess.run(
            ["wrk", "-t1", "-c4", f"-d{seconds}s", base + path], check=True, capture_output=True, text=True
        ).stdout
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="/products/1")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="ricecoder-rps-"))
    samples: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    for round_no in range(args.rounds):
        names = list(CONFIGURATIONS) if round_no % 2 == 0 else list(reversed(CONFIGURATIONS))
        for name in names:
            samples[name].append(measure(name, args.seconds, args.path, workdir))
            print(f"round {round_no + 1}/{args.rounds} {name}: {samples[name][-1]:.0f} req/s", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratio = medians["ricecoder-otel"] / medians["opentelemetry-distro"]
    record_result(
        "rps",
        "benchmarks.overhead.rps",
        argv,
        {
            "load": f"wrk -t1 -c4 -d{args.seconds}s GET {args.path}; gunicorn, 1 sync worker",
            "samples_req_per_s": samples,
            "median_req_per_s": {k: round(v, 1) for k, v in medians.items()},
            "ratio_ricecoder_to_opentelemetry_distro": round(ratio, 3),
            "ratio_ricecoder_to_uninstrumented": round(medians["ricecoder-otel"] / medians["uninstrumented"], 3),
            "target_ratio": 0.9,
            "meets_target": ratio >= 0.9,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
