"""Drive realistic traffic at the shop: several users, browsing, carts, checkouts,
a slow report and a flaky payment endpoint.

    python examples/shop/traffic.py --url http://127.0.0.1:8000 --duration 10
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class TrafficStats:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_route": dict(self.by_route),
        }


def _call(base: str, method: str, path: str, user: str, session: str, body: dict[str, object] | None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"X-User-Id": user, "X-Session-Id": session, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def one_visit(base: str, rng: random.Random, user: str, stats: TrafficStats, *, full: bool = False) -> None:
    """A visit: browse, maybe fill a cart and check out, sometimes the report or the flaky payment.

    A ``full`` visit takes every step, so a short run still reaches every route.
    """
    session = f"s-{rng.randrange(1 << 30):08x}"
    steps: list[tuple[str, str, str, dict[str, object] | None]] = [("GET", "/products", "/products", None)]
    for _ in range(rng.randint(1, 3)):
        pid = rng.randint(1, 6)  # 6 does not exist: a realistic 404
        steps.append(("GET", f"/products/{pid}", "/products/<int:product_id>", None))
    if full or rng.random() < 0.6:
        steps.append(("POST", f"/cart/{user}", "/cart/<user_id>", {"product_id": rng.randint(1, 5), "qty": 2}))
        steps.append(("POST", f"/checkout/{user}", "/checkout/<user_id>", None))
    if full or rng.random() < 0.15:
        steps.append(("GET", "/reports/sales", "/reports/sales", None))
    if full or rng.random() < 0.1:
        steps.append(("GET", "/payments/flaky", "/payments/flaky", None))
    for method, path, route, body in steps:
        status = _call(base, method, path, user, session, body)
        stats.requests += 1
        stats.by_status[status] += 1
        stats.by_route[route] += 1


def drive(base: str, duration_s: float, users: int = 8, seed: int = 7) -> TrafficStats:
    rng = random.Random(seed)
    stats = TrafficStats()
    user_ids = [f"user-{n}" for n in range(1, users + 1)]
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        one_visit(base, rng, rng.choice(user_ids), stats)
    one_visit(base, rng, rng.choice(user_ids), stats, full=True)  # however slow the host, every route is seen
    return stats


def wait_ready(base: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the shop at {base} did not answer /health within {timeout_s:.0f}s")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    wait_ready(args.url)
    print(json.dumps(drive(args.url, args.duration, args.users, args.seed).as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
