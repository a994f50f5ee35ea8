"""``ricecoder-otel audit verify|export|public-key``: check the audit journal, hand records to auditors.

``verify`` exits 0 when every record, the chain, the checkpoints and the head check out, 1 when
something was altered (it names the first bad sequence number), 2 when there is no journal, the
key is wrong or the configuration is invalid. With ``--public-key FILE`` it needs no secret and
no configuration: the Ed25519 signatures are checked against that public key (what a third party
does). ``export`` verifies first and writes nothing from a journal that does not verify.
``public-key`` prints the public half of ``compliance.audit.signing_key`` for distribution.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ricecoder_otel.cli._util import print_json, progress
from ricecoder_otel.compliance.audit.capability import journal_directory, secret_bytes, signing_key
from ricecoder_otel.compliance.audit.engine import AuditError, iso_time
from ricecoder_otel.compliance.audit.export import exported_records
from ricecoder_otel.compliance.audit.journal import load_key
from ricecoder_otel.compliance.audit.signing import PublicKey
from ricecoder_otel.compliance.audit.verify import VerifyResult, verify_journal
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.duration import parse_duration

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
CSV_COLUMNS = (
    "seq",
    "ts",
    "actor",
    "action",
    "resource",
    "outcome",
    "trace_id",
    "span_id",
    "details",
    "prev",
    "hash",
    "checkpoint",
    "leaf_index",
    "tree_size",
    "merkle_root",
    "proof",
)


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", type=Path, metavar="DIR", help="journal directory (default: compliance.audit.path as configured)"
    )
    parser = subparsers.add_parser("audit", help="audit trail: verify, export", description=__doc__)
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    actions.required = True
    verify = actions.add_parser("verify", parents=[common], help="check every record, checkpoint and the head")
    verify.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    verify.add_argument("--deep", action="store_true", help="also recompute every checkpoint's Merkle root")
    verify.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="worker processes checking ranges at once (default: one per CPU for a journal over 32 MiB, else 1)",
    )
    verify.add_argument(
        "--public-key", type=Path, metavar="FILE", help="check the Ed25519 signatures with this public key only"
    )
    verify.set_defaults(func=run_verify)
    public = actions.add_parser("public-key", help="print the public key of compliance.audit.signing_key")
    public.add_argument("--json", action="store_true", help="print one JSON object instead of the PEM")
    public.set_defaults(func=run_public_key)
    export = actions.add_parser("export", parents=[common], help="records with inclusion proofs, for auditors")
    export.add_argument(
        "--since",
        default="",
        metavar="WHEN",
        help="a duration back from now (30d) or an ISO 8601 time; default: everything",
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", type=Path, metavar="FILE", help="write here instead of stdout")
    export.set_defaults(func=run_export)


@dataclass(frozen=True)
class _Target:
    directory: Path
    key: bytes | None
    public_key: PublicKey | None


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _fail(error: object) -> int:
    print(f"ricecoder-otel audit: {error}", file=sys.stderr)
    return EXIT_USAGE


def _target(args: argparse.Namespace) -> _Target | int:
    """The journal and the keys to check it with: the public key given, else the configured keys.

    A third party's ``verify --dir DIR --public-key FILE`` reads no configuration at all.
    """
    public_file: Path | None = getattr(args, "public_key", None)
    try:
        if public_file is not None and args.dir is not None:
            return _Target(args.dir, None, PublicKey.load(public_file.read_bytes()))
        config = load_config().compliance.audit
        directory = args.dir if args.dir is not None else journal_directory(config)
        if public_file is not None:
            return _Target(directory, None, PublicKey.load(public_file.read_bytes()))
        signer = signing_key(config)
        key = load_key(directory, secret_bytes(config.checkpoint_key), create=False)
        return _Target(directory, key, None if signer is None else signer.public)
    except OSError as error:
        return _fail(f"cannot read {public_file}: {error.strerror}")
    except (AuditError, ConfigError) as error:
        return _fail(error)


def _verify(target: _Target, *, deep: bool = False, jobs: int | None = None) -> VerifyResult | int:
    try:
        return verify_journal(
            target.directory,
            target.key,
            public_key=target.public_key,
            progress=lambda seq: progress(f"verified {seq:,} records"),
            deep=deep,
            jobs=jobs,
        )
    except AuditError as error:
        return _fail(error)


def run_verify(args: argparse.Namespace) -> int:
    target = _target(args)
    if isinstance(target, int):
        return target
    result = _verify(target, deep=args.deep, jobs=args.jobs)
    if isinstance(result, int):
        return result
    if args.json:
        print_json(result.to_json())
    else:
        print(_summary(result))
    return EXIT_OK if result.ok else EXIT_PROBLEM


def run_public_key(args: argparse.Namespace) -> int:
    try:
        signer = signing_key(load_config().compliance.audit)
    except (ConfigError, AuditError) as error:
        return _fail(error)
    if signer is None:
        return _fail("compliance.audit.signing_key is not set: checkpoints are signed with the HMAC key only")
    if args.json:
        print_json({"key_id": signer.key_id, "pem": signer.public.pem(), "hex": signer.public.raw.hex()})
    else:
        print(signer.public.pem(), end="")
    return EXIT_OK


def _summary(result: VerifyResult) -> str:
    rate = result.records / result.seconds if result.seconds > 0 else 0.0
    lines = [
        f"journal      {result.journal}",
        f"records      {result.records} (last sequence number {result.last_seq})",
        f"checkpoints  {result.checkpoints} ({result.unsigned} records after the last one)",
        f"head         {'-' if result.head_seq is None else result.head_seq}",
        f"signatures   {' + '.join(result.signatures)}",
        f"time         {result.seconds:.3f}s ({rate:,.0f} records/s, {result.jobs} process{'es' * (result.jobs > 1)})",
    ]
    lines.extend(f"note         {note}" for note in result.notes)
    if result.ok:
        lines.append("result       OK: the chain, the checkpoints and the head verify")
    else:
        bad = "-" if result.first_bad_seq is None else result.first_bad_seq
        lines.append(f"result       TAMPERED at sequence number {bad}: {result.problem}")
    return "\n".join(lines)


def _since(text: str, now: float) -> str | None:
    if not text:
        return ""
    try:
        return iso_time(now - parse_duration(text).total_seconds())
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return iso_time((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def run_export(args: argparse.Namespace) -> int:
    since = _since(args.since, time.time())
    if since is None:
        print(
            f"ricecoder-otel audit export: --since {args.since!r}: expected a duration like 30d or an ISO 8601 time",
            file=sys.stderr,
        )
        return EXIT_USAGE
    target = _target(args)
    if isinstance(target, int):
        return target
    result = _verify(target)
    if isinstance(result, int):
        return result
    if not result.ok:
        print(
            f"ricecoder-otel audit export: the journal does not verify (sequence number "
            f"{result.first_bad_seq}: {result.problem}); nothing exported",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    out: TextIO = args.output.open("w", newline="") if args.output else sys.stdout
    try:
        count = _write(out, args.format, exported_records(target.directory, since))
    finally:
        if args.output:
            out.close()
    progress(f"exported {count} records")
    return EXIT_OK


def _write(out: TextIO, fmt: str, items: Any) -> int:
    count = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    for item in items:
        count += 1
        if writer is None:
            out.write(json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n")
            continue
        record, proof = item["record"], item["proof"] or {}
        writer.writerow(
            [
                record["seq"],
                record["ts"],
                record["actor"],
                record["action"],
                record["resource"],
                record["outcome"],
                record["trace_id"],
                record["span_id"],
                json.dumps(record["details"], sort_keys=True),
                record["prev"],
                record["hash"],
                proof.get("checkpoint", ""),
                proof.get("leaf_index", ""),
                proof.get("tree_size", ""),
                proof.get("merkle_root", ""),
                " ".join(proof.get("path", [])),
            ]
        )
    return count
