"""``ricecoder-otel doctor`` against the real collector, a closed port, the wrong protocol and TLS mismatches."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.collector import (
    CollectorHandle,
    attributes,
    gateway_env,
    iter_logs,
    iter_spans,
    read_requests,
    shipped,
    start_collector,
)
from tests.harness.ports import free_port
from tests.integration.collector.doctor_run import run_doctor


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorHandle]:
    workdir = tmp_path_factory.mktemp("doctor-gateway")
    env = gateway_env(workdir, sampling_percentage=100, decision_wait_s=1)
    handle = start_collector(shipped("gateway.yaml"), env, workdir, name="gateway")
    try:
        yield handle
    finally:
        handle.stop()


def doctor(**otel_env: str) -> tuple[int, dict[str, Any]]:
    return run_doctor(env=otel_env)


def failed_hop(report: dict[str, Any], signal: str) -> dict[str, Any]:
    return next(h for h in report["signals"][signal]["hops"] if not h["ok"])


def _wait_for(predicate: Any, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")
        time.sleep(0.2)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_doctor_probes_reach_the_collector_sinks(gateway: CollectorHandle, protocol: str) -> None:
    port_var = "GATEWAY_OTLP_GRPC_ENDPOINT" if protocol == "grpc" else "GATEWAY_OTLP_HTTP_ENDPOINT"
    code, report = doctor(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{gateway.env[port_var]}", OTEL_EXPORTER_OTLP_PROTOCOL=protocol
    )
    assert code == 0, report
    assert report["ok"] is True
    probe_ids = set()
    for signal in ("traces", "metrics", "logs"):
        hops = report["signals"][signal]["hops"]
        assert [h["hop"] for h in hops] == ["connect", "tls", "protocol", "export"]
        assert all(h["ok"] for h in hops)
        probe_ids.add(hops[-1]["detail"].rsplit("probe id ", 1)[1].rstrip(")"))
    (probe_id,) = probe_ids  # one probe id names the span, the metric point and the log record
    out = Path(gateway.env["GATEWAY_FILE_DIR"])

    def probe_in(items: Any) -> bool:
        return any(attributes(item).get("ricecoder.doctor.probe_id") == probe_id for _, item in items)

    _wait_for(lambda: probe_in(iter_spans(out / "traces.jsonl")), "the probe span reaching the traces file")
    _wait_for(lambda: probe_in(iter_logs(out / "logs.jsonl")), "the probe log reaching the logs file")
    _wait_for(lambda: probe_id in json.dumps(read_requests(out / "metrics.jsonl")), "the probe metric arriving")


def test_doctor_says_nothing_is_listening() -> None:
    port = free_port()
    code, report = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert code == 1
    for signal in ("traces", "metrics", "logs"):
        hop = failed_hop(report, signal)
        assert hop["hop"] == "connect"
        assert f"nothing is listening on 127.0.0.1:{port}" in hop["detail"]
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in hop["fix"]


def test_doctor_says_http_protocol_was_given_a_grpc_port(gateway: CollectorHandle) -> None:
    code, report = doctor(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{gateway.env['GATEWAY_OTLP_GRPC_ENDPOINT']}",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    assert code == 1
    hop = failed_hop(report, "traces")
    assert hop["hop"] == "protocol"
    assert "speaks gRPC" in hop["detail"]
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=grpc" in hop["fix"]


def test_doctor_says_grpc_protocol_was_given_an_http_port(gateway: CollectorHandle) -> None:
    code, report = doctor(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{gateway.env['GATEWAY_OTLP_HTTP_ENDPOINT']}",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    assert code == 1
    hop = failed_hop(report, "logs")
    assert hop["hop"] == "protocol"
    assert "speaks HTTP" in hop["detail"]
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in hop["fix"]


def test_doctor_says_tls_was_used_against_a_plaintext_collector(gateway: CollectorHandle) -> None:
    code, report = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=f"https://{gateway.env['GATEWAY_OTLP_GRPC_ENDPOINT']}")
    assert code == 1
    hop = failed_hop(report, "metrics")
    assert hop["hop"] == "tls"
    assert "speaks plaintext" in hop["detail"]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A loopback TLS server (self-signed) that completes handshakes and closes."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(1)
                    tls.recv(1024)
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_doctor_says_the_server_expects_tls(tls_server: int) -> None:
    code, report = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{tls_server}")
    assert code == 1
    hop = failed_hop(report, "traces")
    assert hop["hop"] == "tls"
    assert "expects TLS" in hop["detail"]
    assert "https://" in hop["fix"]


@pytest.fixture
def auth_server() -> Iterator[int]:
    """An OTLP/HTTP endpoint that refuses every export with 401, as an auth-protected receiver does."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(401)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"missing or invalid credentials")

        def log_message(self, *_: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_doctor_reports_refused_credentials_without_printing_them(auth_server: int) -> None:
    code, report = doctor(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://probe:s3cr3t-password@127.0.0.1:{auth_server}",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20s3cr3t-token",
    )
    assert code == 1
    for signal in ("traces", "metrics", "logs"):
        hop = failed_hop(report, signal)
        assert hop["hop"] == "export"
        assert "401" in hop["detail"]
        assert "OTEL_EXPORTER_OTLP_HEADERS" in hop["fix"]
    assert "s3cr3t" not in json.dumps(report)


def test_doctor_probes_what_the_service_uses_when_the_protocol_is_unset(gateway: CollectorHandle) -> None:
    """The distro defaults to http/protobuf: doctor must probe that, not the bare SDK's gRPC."""
    code, report = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{gateway.env['GATEWAY_OTLP_HTTP_ENDPOINT']}")
    assert code == 0, report
    assert report["mode"] == "otlp" and report["store"] is None
    for signal in ("traces", "metrics", "logs"):
        assert report["signals"][signal]["protocol"] == "http/protobuf"
        assert report["signals"][signal]["exporters"] == ["otlp"]


def test_doctor_honours_the_per_signal_endpoint_and_protocol(gateway: CollectorHandle, tmp_path: Path) -> None:
    grpc, http = gateway.env["GATEWAY_OTLP_GRPC_ENDPOINT"], gateway.env["GATEWAY_OTLP_HTTP_ENDPOINT"]
    code, report = run_doctor(
        env={
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://{grpc}",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"http://{http}/v1/logs",
        },
        home=tmp_path,
    )
    assert code == 0, report
    assert report["mode"] == "mixed"  # metrics have no endpoint: they stay in the embedded store
    traces, logs, metrics = (report["signals"][s] for s in ("traces", "logs", "metrics"))
    assert (traces["protocol"], traces["endpoint"]) == ("grpc", f"http://{grpc}")
    assert (logs["protocol"], logs["hops"][-1]["hop"]) == ("http/protobuf", "export")
    assert metrics["exporters"] == ["ricecoder_local"] and report["store"]["ok"] is True
