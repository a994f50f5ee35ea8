"""``ricecoder-otel dashboard list|show|check|serve|export``: dashboards from the store.

A dashboard is named by a built-in uid (``service-overview``) or a YAML/JSON file. The store is
``--store``, else ``store.location`` as the service resolves it; it is opened read-only.
Exit codes: 0 ok, 1 a problem was found (check) or the store cannot be read, 2 bad usage,
an unreadable dashboard or an invalid configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ricecoder_otel.cli._util import print_json, printable, progress
from ricecoder_otel.cli.query import since_argument, store_location
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.files import check_file, load_file
from ricecoder_otel.dashboards.model import Dashboard, DashboardError, Problem
from ricecoder_otel.store import StoreError, open_store
from ricecoder_otel.store.sql import SqlStore

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
TOKEN_VARIABLE = "RICECODER_DASHBOARD_TOKEN"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="list, check, serve and export dashboards",
        description="Dashboards rendered from the store: built-ins or your own YAML/JSON documents.",
    )  # fmt: skip
    verbs = parser.add_subparsers(dest="dashboard_verb", metavar="VERB")
    verbs.required = True
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print JSON instead of a table")
    store_flag = argparse.ArgumentParser(add_help=False)
    store_flag.add_argument(
        "--store", metavar="LOCATION", help="SQLite path or postgresql:// URL (default: store.location)"
    )
    files_flag = argparse.ArgumentParser(add_help=False)
    files_flag.add_argument(
        "--dir", type=Path, metavar="DIR", help="also every *.yaml, *.yml and *.json dashboard in DIR"
    )

    listing = verbs.add_parser("list", parents=[json_flag, files_flag], help="the dashboards available")
    listing.set_defaults(func=run_list)
    show = verbs.add_parser("show", parents=[json_flag, files_flag], help="one dashboard's definition")
    show.add_argument("dashboard", metavar="NAME|FILE")
    show.set_defaults(func=run_show)
    check = verbs.add_parser("check", parents=[json_flag], help="every problem of a dashboard file, with its path")
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(func=run_check)

    serve = verbs.add_parser("serve", parents=[store_flag, files_flag], help="the live view in a browser")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1; others need a token)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    serve.add_argument("--token", help=f"required on other interfaces (default ${TOKEN_VARIABLE})")
    serve.set_defaults(func=run_serve)

    export = verbs.add_parser(
        "export", parents=[store_flag, files_flag], help="JSON, self-contained HTML or Grafana JSON"
    )
    export.add_argument("dashboard", nargs="?", metavar="NAME|FILE")
    export.add_argument("--all", action="store_true", help="every dashboard (with --out DIR)")
    export.add_argument("--format", choices=("json", "html", "grafana"), default="json")
    export.add_argument(
        "--since", type=since_argument, metavar="DURATION", help="time range (default: the dashboard's)"
    )
    export.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable's value")
    export.add_argument("--out", type=Path, metavar="PATH", help="file (or directory with --all); default stdout")
    export.set_defaults(func=run_export)


# -- finding dashboards --------------------------------------------------------------------------


def available(directory: Path | None) -> dict[str, Dashboard]:
    """Built-ins, then the valid documents in ``directory`` (a file's uid replaces a built-in's)."""
    found = builtin_dashboards()
    if directory is not None:
        for path in sorted(directory.iterdir()):
            if path.suffix in (".yaml", ".yml", ".json"):
                dashboard, problems = check_file(path)
                if dashboard is None or any(p.severity == "error" for p in problems):
                    progress(f"skipping {printable(str(path))}: invalid (run `ricecoder-otel dashboard check` on it)")
                    continue
                found[dashboard.uid] = dashboard
    return found


def resolve(name: str, directory: Path | None) -> Dashboard:
    """A uid or a file path; raises DashboardError with the problems, or KeyError for an unknown uid."""
    dashboards = available(directory)
    if name in dashboards:
        return dashboards[name]
    path = Path(name)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return load_file(path)
    raise KeyError(f"no dashboard {name!r}; known: {', '.join(sorted(dashboards))}")


def _fail(message: str, code: int) -> int:
    print(f"ricecoder-otel dashboard: {printable(redact_dsn(message))}", file=sys.stderr)
    return code


# -- verbs ---------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    dashboards = available(args.dir)
    if args.json:
        print_json(
            [{"uid": d.uid, "title": d.title, "panels": len(d.panels), "tags": d.tags} for d in dashboards.values()]
        )
        return EXIT_OK
    width = max(len(uid) for uid in dashboards)
    for d in dashboards.values():
        print(f"{d.uid:<{width}}  {len(d.panels):>2} panels  {printable(d.title)}")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    try:
        dashboard = resolve(args.dashboard, args.dir)
    except (KeyError, DashboardError) as exc:
        return _fail(str(exc.args[0] if isinstance(exc, KeyError) else exc), EXIT_USAGE)
    if args.json:
        print_json(dashboard.document())
        return EXIT_OK
    print(f"{printable(dashboard.title)} ({dashboard.uid}), last {dashboard.document()['time_range']}")
    for v in dashboard.variables:
        print(f"  variable ${v.name}: {v.attribute}")
    for p in dashboard.panels:
        what = ", ".join(f"report {q.report}" if q.report else f"{q.aggregation}({q.metric})" for q in p.queries)
        what = what or ", ".join(p.events)
        print(f"  [{p.grid.x:>2},{p.grid.y:>2} {p.grid.w:>2}x{p.grid.h:<2}] {p.type:<8} {printable(p.title)}: {what}")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    dashboard, problems = check_file(args.file)
    if args.json:
        print_json({"file": str(args.file), "valid": dashboard is not None and not _errors(problems),
                    "problems": [p.model_dump() for p in problems]})  # fmt: skip
    elif not problems:
        print(f"{printable(str(args.file))}: ok ({len(dashboard.panels) if dashboard else 0} panels)")
    else:
        for problem in problems:
            print(f"{printable(str(args.file))}: {printable(str(problem))}")
    return EXIT_PROBLEM if dashboard is None or _errors(problems) else EXIT_OK


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _open(args: argparse.Namespace) -> SqlStore:
    store = open_store(store_location(args.store), read_only=True)
    if not isinstance(store, SqlStore):  # every shipped backend is one
        raise StoreError(f"{store.display_location}: dashboards need a SQL store")
    try:
        store.schema_version()  # unreadable or missing: say so now, not once per panel
    except StoreError:
        store.close()
        raise
    return store


def run_export(args: argparse.Namespace) -> int:
    from ricecoder_otel.dashboards.grafana import grafana_dashboard, report_panels
    from ricecoder_otel.dashboards.render_html import export_html
    from ricecoder_otel.dashboards.snapshot import take_snapshot

    if args.all == bool(args.dashboard):
        return _fail("name one dashboard, or --all with --out DIR", EXIT_USAGE)
    variables = dict(v.split("=", 1) for v in args.var if "=" in v)
    if len(variables) != len(args.var):
        return _fail("--var expects NAME=VALUE", EXIT_USAGE)
    try:
        dashboards = list(available(args.dir).values()) if args.all else [resolve(args.dashboard, args.dir)]
    except (KeyError, DashboardError) as exc:
        return _fail(str(exc.args[0] if isinstance(exc, KeyError) else exc), EXIT_USAGE)
    store = None
    try:
        if args.format != "grafana":
            store = _open(args)
        outputs: dict[str, str] = {}
        for dashboard in dashboards:
            if args.format == "grafana":
                if skipped := report_panels(dashboard):
                    progress(f"{dashboard.uid}: report panels {', '.join(skipped)} have no PromQL; exported as notes")
                outputs[f"{dashboard.uid}.json"] = (
                    json.dumps(grafana_dashboard(dashboard), indent=2, sort_keys=True) + "\n"
                )
                continue
            assert store is not None
            progress(f"evaluating {dashboard.uid} ({len(dashboard.panels)} panels) from {store.display_location}")
            snapshot = take_snapshot(store, dashboard, variables=variables, range_ns=args.since)
            failed = {p["error"] for p in snapshot["panels"].values() if p.get("kind") == "error"}
            if failed:
                return _fail(
                    f"{dashboard.uid}: {len(failed)} panel error(s): {'; '.join(sorted(failed))}", EXIT_PROBLEM
                )
            text = export_html(snapshot) if args.format == "html" else json.dumps(snapshot, indent=2, allow_nan=False)
            outputs[f"{dashboard.uid}.{args.format}"] = text if text.endswith("\n") else text + "\n"
    except (ConfigError, StoreError) as exc:
        return _fail(str(exc), EXIT_PROBLEM if isinstance(exc, StoreError) else EXIT_USAGE)
    finally:
        if store is not None:
            store.close()
    return _write(outputs, args.out, args.all)


def _write(outputs: dict[str, str], out: Path | None, many: bool) -> int:
    if many:
        if out is None:
            return _fail("--all writes one file per dashboard: give --out DIR", EXIT_USAGE)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (out / name).write_text(text, encoding="utf-8")
            progress(f"wrote {out / name}")
        return EXIT_OK
    [text] = outputs.values()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        progress(f"wrote {out} ({len(text.encode('utf-8')) // 1024} KiB)")
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    from ricecoder_otel.dashboards.server import DashboardServer, DashboardServerError

    try:
        store = _open(args)
    except (ConfigError, StoreError) as exc:
        return _fail(str(exc), EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_PROBLEM)
    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    try:
        refresh = load_config().dashboards.refresh_interval
        server = DashboardServer(store, available(args.dir), host=args.host, port=args.port, token=token,
                                 default_refresh=refresh).start()  # fmt: skip
    except ConfigError as exc:
        store.close()
        return _fail(str(exc), EXIT_USAGE)
    except DashboardServerError as exc:
        store.close()
        return _fail(str(exc), EXIT_USAGE)
    suffix = "?token=…" if token else ""
    progress(f"serving {len(server.dashboards)} dashboards from {store.display_location} at {server.url}{suffix}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        store.close()
    return EXIT_OK
