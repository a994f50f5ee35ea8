"""Debian's Alertmanager 0.25 on a free loopback port: readiness poll, teardown by PID; a start
that lost its port to another process is retried on a fresh one."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports


@dataclass
class AlertmanagerServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return json.load(response)

    def amtool(self, *args: str) -> str:
        binary = shutil.which("amtool")
        assert binary is not None, "amtool is missing: run .ci/steps/prometheus.sh"
        result = subprocess.run([binary, f"--alertmanager.url={self.url}", *args], capture_output=True, text=True,
                                timeout=30, check=True)  # fmt: skip
        return result.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_alertmanager(workdir: Path, config_yaml: str) -> AlertmanagerServer:
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        raise AssertionError("Debian's Alertmanager is not installed: run .ci/steps/prometheus.sh")
    config = workdir / "alertmanager.yml"
    config.write_text(config_yaml)
    return start_with_fresh_ports(lambda _: _start(binary, workdir, config), "Alertmanager")


def _start(binary: str, workdir: Path, config: Path) -> AlertmanagerServer:
    port = free_port()
    log_path = workdir / "alertmanager.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.path={workdir / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = AlertmanagerServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=1):
                return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                output = log_path.read_text(errors="replace")
                if bind_failed(output):
                    raise PortTaken("Alertmanager", output) from None
                raise AssertionError(f"Alertmanager did not become ready in 60s:\n{output[-2000:]}") from None
            time.sleep(0.05)
