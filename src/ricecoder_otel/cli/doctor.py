"""``ricecoder-otel doctor``: does telemetry from this environment reach where the service sends it, and if not, why."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ricecoder_otel.cli._util import print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check that spans, metrics and logs reach the embedded store or the OTLP endpoint, and explain failures",
        description="Resolves the settings the service would use (the OTEL_* variables with ricecoder-otel's "
        "defaults: the embedded store when no OTLP endpoint is set, else OTLP over http/protobuf on 4318 unless "
        "OTEL_EXPORTER_OTLP_PROTOCOL says otherwise). Checks the embedded store (writable, rows in the last hour) "
        "and, for OTLP, each hop (connect, TLS, protocol) before sending one probe per signal. "
        "Exit 0 only when every check passed.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--path",
        action="store_true",
        help="also probe every hop of the shipped topology: application -> agent -> gateway -> backend; "
        "addresses come from the flags below, else from collector-config/agent.yaml and gateway.yaml with their "
        "${env:VAR:-default} references resolved against this environment",
    )
    parser.add_argument("--agent", metavar="URL", help="the agent's health_check URL (e.g. http://localhost:13133/)")
    parser.add_argument(
        "--gateway",
        metavar="URL",
        help="the gateway's health_check URL; its OTLP/gRPC port is still read from agent.yaml",
    )
    parser.add_argument("--backend", metavar="URL", help="the OTLP/HTTP backend the gateway exports to")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from ricecoder_otel.collector.doctor import run
    from ricecoder_otel.collector.topology import PathReport, check_path

    report = run()
    path: PathReport | None = None
    if args.path or args.agent or args.gateway or args.backend:
        path = check_path(report, os.environ, agent=args.agent, gateway=args.gateway, backend=args.backend)
    ok = report.ok and (path is None or path.ok)
    if args.json:
        print_json({**report.as_dict(), "ok": ok, "path": None if path is None else path.as_dict()})
        return 0 if ok else 1
    _print_report(report)
    if path is not None:
        _print_path(path)
    print("everything checked is working" if ok else "some checks failed (see FAIL above)")
    return 0 if ok else 1


def _line(ok: bool, name: str, detail: str, fix: str | None) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {name:<9} {detail}")
    if fix and not ok:
        print(f"       fix: {fix}")


def _print_report(report: Any) -> None:
    modes = {
        "embedded": "embedded: no OTLP endpoint is set, so telemetry goes to the local store "
        "(set OTEL_EXPORTER_OTLP_ENDPOINT to export to a collector)",
        "otlp": "OTLP export",
        "mixed": "embedded store and OTLP export",
        "other": "neither the embedded store nor OTLP",
    }
    print(f"mode: {modes[report.mode]}")
    store = report.store
    if store is not None:
        print("store")
        _line(store.ok, "store", store.detail, store.fix)
        if store.config_problem:
            print(f"       note: the config does not load, so the service runs on defaults: {store.config_problem}")
    for signal in report.signals:
        where = f" {signal.protocol} {signal.endpoint}" if signal.endpoint else ""
        print(f"{signal.signal:<8} {','.join(signal.exporters) or 'none'}{where}")
        for hop in signal.hops:
            detail = "the embedded store (above)" if hop.hop == "store" else hop.detail
            _line(hop.ok, hop.hop, detail, None if hop.hop == "store" else hop.fix)


def _print_path(path: Any) -> None:
    print("path: application -> agent -> gateway -> backend")
    for hop in path.hops:
        print(f"{'ok  ' if hop.ok else 'FAIL'} {hop.hop:<11} {hop.address or '(no address)'}  [{hop.source}]")
        for check in hop.checks:
            _line(check.ok, check.hop, check.detail, check.fix)
    if path.broken:
        print(f"telemetry stops at: {path.broken}")
