"""``ricecoder-otel errors list|show|resolve``: the error groups kept in the store.

``list`` shows groups by count with first and last seen and affected users; ``show ID`` one
group's stack trace, latest sample events and their trace ids (``query spans --trace-id`` opens
them); ``resolve ID`` marks a group resolved, so its next occurrence is a regression. An id may
be shortened to any unique prefix. Exit codes: 0 done, 1 the store cannot be read or the group
is unknown, 2 bad arguments or an invalid configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ricecoder_otel.cli._util import print_json, printable
from ricecoder_otel.cli.query import (
    EXIT_OK,
    EXIT_STORE,
    EXIT_USAGE,
    _table,
    positive_int,
    since_argument,
    store_location,
)
from ricecoder_otel.config import ConfigError
from ricecoder_otel.config.secrets import redact_dsn
from ricecoder_otel.errors.store import ErrorStore, StoredGroup, StoredSample
from ricecoder_otel.store import StoreError, open_store


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="LOCATION", help="store location (default: store.location as configured)")
    common.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser = subparsers.add_parser("errors", help="error groups: list, show, resolve", description=__doc__)
    actions = parser.add_subparsers(dest="errors_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", parents=[common], help="groups by count")
    listing.add_argument(
        "--since", type=since_argument, metavar="DURATION", help="only groups seen in the last DURATION"
    )
    listing.add_argument("--limit", type=positive_int, default=50, metavar="N", help="at most N groups (default 50)")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", parents=[common], help="one group: stack trace, samples, traces")
    show.add_argument("id", help="group id or a unique prefix of it")
    show.set_defaults(func=run_show)
    resolve = actions.add_parser("resolve", parents=[common], help="mark a group resolved")
    resolve.add_argument("id", help="group id or a unique prefix of it")
    resolve.set_defaults(func=run_resolve)


def _open(args: argparse.Namespace, *, read_only: bool) -> tuple[Any, ErrorStore] | int:
    try:
        location = store_location(args.store)
    except ConfigError as error:
        print(f"ricecoder-otel errors: {redact_dsn(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = open_store(location, read_only=read_only, create=False)
    except StoreError as error:
        return _failed(error)
    return store, ErrorStore(store)


def _failed(error: StoreError) -> int:
    print(f"ricecoder-otel errors: {printable(redact_dsn(str(error)))}", file=sys.stderr)
    return EXIT_STORE


def _with_store(args: argparse.Namespace, read_only: bool, work: Callable[[ErrorStore], int]) -> int:
    opened = _open(args, read_only=read_only)
    if isinstance(opened, int):
        return opened
    store, errors = opened
    try:
        return work(errors)
    except StoreError as error:
        return _failed(error)
    finally:
        store.close()


def _time(ns: int | None) -> str:
    return "" if ns is None else datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def run_list(args: argparse.Namespace, now_ns: Callable[[], int] = time.time_ns) -> int:
    since_ns = None if args.since is None else now_ns() - args.since

    def work(errors: ErrorStore) -> int:
        groups = errors.list_groups(since_ns, args.limit)
        if args.json:
            print_json({"since_ns": since_ns, "groups": [dataclasses.asdict(g) for g in groups]})
            return EXIT_OK
        if not groups:
            print("no error groups" + (" in that window" if since_ns is not None else ""))
            return EXIT_OK
        header = ["ID", "COUNT", "USERS", "FIRST SEEN", "LAST SEEN", "STATUS", "TITLE"]
        rows = [
            [g.id, str(g.count), str(g.users), _time(g.first_seen_ns), _time(g.last_seen_ns), g.status, g.title]
            for g in groups
        ]
        print(_table(header, rows))
        return EXIT_OK

    return _with_store(args, True, work)


def _find(errors: ErrorStore, wanted: str) -> StoredGroup | None:
    group = errors.find(wanted)
    if group is None:
        print(f"ricecoder-otel errors: no error group {printable(wanted)!r}", file=sys.stderr)
    return group


def run_show(args: argparse.Namespace) -> int:
    def work(errors: ErrorStore) -> int:
        group = _find(errors, args.id)
        if group is None:
            return EXIT_STORE
        samples = errors.samples(group.id)
        traces = sorted({s.trace_id for s in samples if s.trace_id})
        if args.json:
            print_json({"group": dataclasses.asdict(group), "samples": [dataclasses.asdict(s) for s in samples],
                        "trace_ids": traces})  # fmt: skip
            return EXIT_OK
        print(_describe(group, samples, traces))
        return EXIT_OK

    return _with_store(args, True, work)


def _describe(group: StoredGroup, samples: list[StoredSample], traces: list[str]) -> str:
    lines = [
        f"{group.title}",
        f"  id          {group.id}",
        f"  status      {group.status}" + (f" at {_time(group.resolved_at_ns)}" if group.resolved_at_ns else ""),
        f"  count       {group.count}   users {group.users}",
        f"  first seen  {_time(group.first_seen_ns)}   last seen {_time(group.last_seen_ns)}",
        f"  culprit     {group.culprit}",
        f"  release     {group.release or '-'}   environment {group.environment or '-'}",
        f"  fingerprint {' | '.join(group.fingerprint)}",
        "",
        group.stack_trace.rstrip(),
        "",
        f"latest {len(samples)} sample events:",
    ]
    for s in samples:
        lines.append(
            f"  {_time(s.time_ns)}  {s.source:<11} trace {s.trace_id or '-'}  user {s.user_id or '-'}  {s.message}"
        )
    if traces:
        lines += ["", "linked traces (ricecoder-otel query spans --trace-id ID):", *(f"  {t}" for t in traces)]
    return "\n".join(printable(line) if "\n" not in line else "\n".join(map(printable, line.split("\n")))
                     for line in lines)  # fmt: skip


def run_resolve(args: argparse.Namespace, now_ns: Callable[[], int] = time.time_ns) -> int:
    def work(errors: ErrorStore) -> int:
        group = _find(errors, args.id)
        if group is None:
            return EXIT_STORE
        at = now_ns()
        errors.resolve(group.id, at)
        if args.json:
            print_json({"id": group.id, "status": "resolved", "resolved_at_ns": at})
        else:
            print(f"resolved {group.id} ({printable(group.title)}); its next occurrence reopens it as a regression")
        return EXIT_OK

    return _with_store(args, False, work)
