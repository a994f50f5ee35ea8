"""Redaction cost per span and per attribute: the span transform against no transform, in one run.

Spans are shaped like an instrumented HTTP request (12 attributes). Three cases:

* ``typical``: the values most requests share (routes, user agents, a client address, a URL
  with a token in its query), so two values per span are redacted and most values repeat (the
  redactor's per-value outcome cache helps);
* ``unique``: every span has fresh ids, paths, client addresses and tokens (no cache help; two
  values redacted per span);
* ``clean``: fresh near-miss values and nothing sensitive (ids, timestamps, versions, hashes,
  order numbers): the common case, where the gate must say "clean" cheaply.

Per case, three transforms run on the same spans in alternating rounds: a pass-through (the
baseline), the default policy, and the default policy with the gate switched off (every
detector's patterns on every value: the scan before the gate existed). Times are the thread's
CPU time (``time.thread_time_ns``), medians over rounds, so other processes on a shared machine
inflate them less than wall time. The bare SDK column (creating and ending the same span with no
processor, same clock) calibrates for the machine.

Run: ``PYTHONPATH=src:. python -m benchmarks.redaction.cost --out benchmarks/results``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import SpanContext, SpanKind

from ricecoder_otel.compliance.redaction.engine import Policy, Redactor, build_policy
from ricecoder_otel.compliance.redaction.otel import SpanRedactor

COMMAND = "PYTHONPATH=src:. python -m benchmarks.redaction.cost --out benchmarks/results"
ATTRIBUTES_PER_SPAN = 12
CASES = ("typical", "unique", "clean")
TARGET_US = 2.0


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _attributes(rng: random.Random, case: str) -> dict[str, Any]:
    if case == "typical":
        order, client, request = 42, "203.0.113.9", "req-00000042-0001"
    else:
        order = rng.randint(1, 10**6)
        client = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        request = f"req-{order:08d}-{rng.randint(0, 9999):04d}"
    attributes: dict[str, Any] = {
        "http.request.method": "GET",
        "http.route": "/api/orders/{id}",
        "url.path": f"/api/orders/{order}",
        "url.full": f"https://shop.example.com/api/orders/{order}?expand=items&token=t{order}abcdef",
        "url.scheme": "https",
        "server.address": "shop.example.com",
        "server.port": 443,
        "client.address": client,
        "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.6099.109",
        "http.response.status_code": 200,
        "network.protocol.version": "1.1",
        "app.request_id": request,
    }
    if case == "clean":
        del attributes["client.address"]
        page, minor, patch, day, hour = (rng.randint(1, 99) for _ in range(5))
        attributes["url.full"] = f"https://shop.example.com/api/orders/{order}?expand=items&page={page}"
        attributes["enduser.pseudo.id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        attributes["user_agent.original"] = f"checkout-service/2.{minor}.{patch} (build {_hex(rng, 7)})"
        attributes["app.request_id"] = f"2026-11-{day % 28 + 1:02d}T{hour % 24:02d}:04:05.{order % 1000:03d}Z"
    return attributes


def _spans(count: int, case: str, seed: int) -> list[ReadableSpan]:
    rng = random.Random(seed)
    context = SpanContext(trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0x00F067AA0BA902B7, is_remote=False)
    return [
        ReadableSpan(name="GET /api/orders/{id}", context=context, attributes=_attributes(rng, case),
                     kind=SpanKind.SERVER, start_time=1, end_time=2)
        for _ in range(count)
    ]  # fmt: skip


def _cpu_ns_per_span(transform: Callable[[ReadableSpan], Any], spans: list[ReadableSpan]) -> float:
    start = time.thread_time_ns()
    for span in spans:
        transform(span)
    return (time.thread_time_ns() - start) / len(spans)


def _sdk_span_ns(spans: list[ReadableSpan]) -> float:
    """Calibration: creating and ending the same spans with the bare SDK (no processor), per span."""
    tracer = TracerProvider().get_tracer("calibration")
    start = time.thread_time_ns()
    for span in spans:
        tracer.start_span(span.name, attributes=span.attributes, kind=SpanKind.SERVER).end()
    return (time.thread_time_ns() - start) / len(spans)


def ungated(policy: Policy) -> Policy:
    """``policy`` with every detector's anchors removed: all patterns run on every value."""
    return dataclasses.replace(policy, detectors=tuple(dataclasses.replace(d, anchors=()) for d in policy.detectors))


def measure(case: str, spans: int, rounds: int) -> dict[str, Any]:
    gated_redactor = Redactor(build_policy())
    ungated_redactor = Redactor(ungated(build_policy()))
    transforms: dict[str, Callable[[ReadableSpan], Any]] = {
        "without": lambda span: span,
        "with": SpanRedactor(lambda: gated_redactor, lambda tally, signal: None),
        "ungated": SpanRedactor(lambda: ungated_redactor, lambda tally, signal: None),
    }
    samples: dict[str, list[float]] = {name: [] for name in (*transforms, "sdk")}
    for index in range(rounds):
        batch = _spans(spans, case, seed=index)
        order = list(transforms) if index % 2 == 0 else list(reversed(transforms))
        for name in order:
            samples[name].append(_cpu_ns_per_span(transforms[name], batch))
        samples["sdk"].append(_sdk_span_ns(batch))
    sample = transforms["with"](_spans(1, case, seed=99)[0])
    redacted = int((sample.attributes or {}).get("ricecoder.redacted.count", 0))
    median = {name: statistics.median(values) for name, values in samples.items()}
    with_us = (median["with"] - median["without"]) / ATTRIBUTES_PER_SPAN / 1000
    ungated_us = (median["ungated"] - median["without"]) / ATTRIBUTES_PER_SPAN / 1000
    return {
        "case": case,
        "spans_per_round": spans,
        "rounds": rounds,
        "attributes_per_span": ATTRIBUTES_PER_SPAN,
        "values_redacted_per_span": redacted,
        "cpu_ns_per_span_without": round(median["without"]),
        "cpu_ns_per_span_with_redaction": round(median["with"]),
        "cpu_ns_per_span_ungated": round(median["ungated"]),
        "us_per_attribute": round(with_us, 3),
        "us_per_attribute_ungated": round(ungated_us, 3),
        "gate_speedup": round(ungated_us / with_us, 2) if with_us > 0 else None,
        "cpu_ns_per_bare_sdk_span": round(median["sdk"]),
        "redaction_vs_bare_sdk_span": round((median["with"] - median["without"]) / median["sdk"], 3),
    }


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Redaction cost", "", f"Command: `{COMMAND}`", "",
        "Span transform (`SpanRedactor`, default policy) against a pass-through transform and against the same policy "
        "with the gate off (every detector on every value), same spans, alternating rounds, medians of the thread's "
        "CPU time. Runs on the exporter's background thread, not the application's. "
        f"Target: at most {TARGET_US:g} us per attribute on average.", "",
        "The bare SDK column (creating and ending the same span, no processor) calibrates for the machine; the last "
        "column is the redaction cost as a share of that span.", "",
        "Before and after a change: `python -m benchmarks.redaction.compare --before <revision>` writes "
        "`redaction-cost-before-after.md`.", "",
        "| case | attrs/span | redacted/span | us/attribute | us/attribute, gate off | gate speed-up "
        "| bare SDK ns/span | redaction / bare SDK span | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    lines += [
        f"| {r['case']} | {r['attributes_per_span']} | {r['values_redacted_per_span']} | {r['us_per_attribute']} "
        f"| {r['us_per_attribute_ungated']} | {r['gate_speedup']}x | {r['cpu_ns_per_bare_sdk_span']} "
        f"| {r['redaction_vs_bare_sdk_span']} | {r['load_average_1m']} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spans", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = []
    for case in CASES:
        print(f"measuring {case} ...", file=sys.stderr)
        results.append(measure(case, args.spans, args.rounds))
    load = os.getloadavg()[0]
    for r in results:
        r["load_average_1m"] = round(load, 2)
        print(f"{r['case']}: {r['us_per_attribute']} us/attribute (gate off {r['us_per_attribute_ungated']}; "
              f"bare SDK span {r['cpu_ns_per_bare_sdk_span']} ns CPU; load {load:.1f})", file=sys.stderr)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        document = {"command": COMMAND, "clock": "time.thread_time_ns", "target_us_per_attribute": TARGET_US,
                    "results": results}
        (args.out / "redaction-cost.json").write_text(json.dumps(document, indent=2) + "\n")
        (args.out / "redaction-cost.md").write_text(_markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
