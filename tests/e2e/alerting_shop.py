"""The example shop with a latency switch, for alerting end-to-end tests and benchmarks.

Run as ``opentelemetry-instrument python tests/e2e/alerting_shop.py`` (from examples/shop):
while the file named by ``SHOP_LATENCY_FILE`` exists, every request to
``/products/<int:product_id>`` first sleeps the seconds it holds. The shop itself is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "shop"))
import app as shop  # the example is a script directory, not a package
from flask import request

ROUTE = "/products/<int:product_id>"


def inject_latency() -> None:
    switch = os.environ.get("SHOP_LATENCY_FILE")
    if switch and request.url_rule is not None and request.url_rule.rule == ROUTE:
        with contextlib.suppress(OSError, ValueError):  # no file: no latency
            time.sleep(float(Path(switch).read_text()))


shop.app.before_request(inject_latency)


if __name__ == "__main__":
    shop.main()
