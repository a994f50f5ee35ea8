"""A third-party-style Flask app for the requests-per-second benchmark.

It knows nothing about ricecoder-otel (no import of it, unlike the example
shop), logs one INFO line per request through the standard ``logging`` module
(so the logging instrumentation's handler has work to do), and does a little
JSON work per request. It is what ``benchmarks.overhead.rps --app plain`` serves.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort

# INFO records reach the root logger's handlers: under opentelemetry-instrument that is the
# logging instrumentation's LoggingHandler; uninstrumented there is none (nothing is printed).
logging.getLogger().setLevel(logging.INFO)
log = logging.getLogger("plain")

app = Flask(__name__)

ITEMS = {n: {"id": n, "name": f"item {n}", "price": round(3.5 * n, 2), "tags": ["a", "b", "c"]} for n in range(1, 51)}


@app.get("/health")
def health() -> Any:
    return {"status": "ok"}


@app.get("/products/<int:item_id>")
def item(item_id: int) -> Any:
    found = ITEMS.get(item_id)
    if found is None:
        abort(404)
    log.info("served item %d", item_id)
    return found
