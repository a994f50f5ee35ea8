"""Run the example shop under ``opentelemetry-instrument`` in a subprocess, as users do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "examples" / "shop"
sys.path.insert(0, str(SHOP))
import traffic  # noqa: E402  (the generator ships beside the example)

BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 120.0


@dataclass
class ShopProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGINT lets atexit handlers flush the pipeline, as Ctrl-C would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the shop did not exit on SIGINT:\n{self.output()[-3000:]}") from None
        return self.process.returncode


def start_shop(
    workdir: Path,
    env: Mapping[str, str],
    *,
    command: Sequence[str] | None = None,
    instrument: bool = True,
    port: int | None = None,
) -> ShopProcess:
    """Start the shop and wait for /health; ``command`` replaces ``python app.py`` (e.g. gunicorn;
    ``{port}`` in its arguments is the port). Without ``port`` a free one is picked, and picked
    again when another process takes it before the shop binds it."""
    if port is not None:
        return _start_shop(workdir, env, command, instrument, port)
    return start_with_fresh_ports(lambda _: _start_shop(workdir, env, command, instrument, free_port()), "the shop")


def _start_shop(
    workdir: Path, env: Mapping[str, str], command: Sequence[str] | None, instrument: bool, port: int
) -> ShopProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    full_env.update(
        SHOP_PORT=str(port),
        SHOP_DB=str(workdir / "shop.sqlite3"),
        SHOP_SLOW_SECONDS="0.05",
        OTEL_SERVICE_NAME="shop",
        OTEL_BSP_SCHEDULE_DELAY="200",
        OTEL_BLRP_SCHEDULE_DELAY="200",
        OTEL_METRIC_EXPORT_INTERVAL="1000",
        PYTHONUNBUFFERED="1",
    )
    full_env.update(env)
    argv = [arg.replace("{port}", str(port)) for arg in command or [sys.executable, str(SHOP / "app.py")]]
    if instrument:
        argv = [str(BIN / "opentelemetry-instrument"), *argv]
    log_path = workdir / f"shop-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=str(SHOP))
    shop = ShopProcess(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None:
            if bind_failed(shop.output()):
                raise PortTaken("the shop", shop.output())
            raise AssertionError(f"the shop exited with {process.returncode}:\n{shop.output()[-3000:]}")
        try:
            traffic.wait_ready(shop.base_url, timeout_s=1)
            return shop
        except TimeoutError as error:
            if time.monotonic() > deadline:
                shop.process.kill()
                shop.process.wait()
                raise AssertionError(
                    f"{error} (waited {READY_TIMEOUT_S:.0f}s)\n--- shop output ---\n{shop.output()[-3000:]}"
                ) from None


def drive(shop: ShopProcess, seconds: float, seed: int = 7) -> traffic.TrafficStats:
    return traffic.drive(shop.base_url, seconds, seed=seed)


def serve_traffic(
    workdir: Path,
    env: Mapping[str, str],
    seconds: float,
    *,
    command: Sequence[str] | None = None,
    port: int | None = None,
    stop_timeout_s: float = 30.0,
) -> tuple[ShopProcess, traffic.TrafficStats]:
    """Start the shop, drive ``seconds`` of traffic, stop it (which flushes); return it and what was sent."""
    shop = start_shop(workdir, env, command=command, port=port)
    try:
        stats = drive(shop, seconds)
    finally:
        shop.stop(timeout_s=stop_timeout_s)
    return shop, stats
