"""Route-to-feature capture through the example shop under ``opentelemetry-instrument``.

The shop sets ``user.id`` and ``session.id`` on its server spans from the ``X-User-Id`` and
``X-Session-Id`` headers the traffic generator sends; the config maps its routes to features.
Nothing in the shop calls analytics: requests become adoption data, pseudonymous, in the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import day_of
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.store import open_store
from tests.harness.shop import serve_traffic

pytestmark = pytest.mark.e2e
CONFIG = """\
analytics:
  pseudonym_key: e2e-shop-pseudonym-key
  features:
    /products: catalogue
    /products/<int:product_id>: product
    /cart/<user_id>: cart
    /checkout/<user_id>: checkout
"""


def test_shop_requests_become_feature_use_without_code(tmp_path: Path) -> None:
    store_path = tmp_path / "telemetry.db"
    config = tmp_path / "ricecoder.yaml"
    config.write_text(CONFIG)
    shop, stats = serve_traffic(
        tmp_path, {"RICECODER_STORE_PATH": str(store_path), "RICECODER_CONFIG_FILE": str(config)}, seconds=3
    )
    assert stats.requests > 10, shop.output()[-2000:]
    with open_store(str(store_path)) as store:
        data = AnalyticsStore(store, "test").read(day_of(2**31), lg_k=14)
        logs = store.query_logs(limit=100_000, event_name="ricecoder.analytics.action")
    uses: dict[str, int] = {}
    for (_, _, feature), row in data.activity.items():
        uses[feature] = uses.get(feature, 0) + row.count
    routes = stats.by_route
    assert uses.get("catalogue") == routes["/products"], shop.output()[-3000:]
    assert uses.get("product") == routes["/products/<int:product_id>"]
    assert uses.get("cart", 0) == routes.get("/cart/<user_id>", 0) > 0
    assert uses.get("checkout", 0) == routes.get("/checkout/<user_id>", 0)
    assert uses.get("") == routes.get("/reports/sales", 0) + routes.get("/payments/flaky", 0)  # unmapped routes
    users = {user for _, user, _ in data.activity}
    assert 1 < len(users) <= 8 and not any(user.startswith("user-") for user in users)
    today = max(day for day, _, _ in data.activity)
    active = {r["feature"]: r for r in reports.active_users(data, today).rows}
    assert active["*"]["dau"] == len(users)
    # The events reached the log exporters too, with the pseudonym as user.id. Calls still queued when
    # the process exits can miss the log export: the pipeline shuts logs down beside the capabilities.
    assert 0 < len(logs) <= stats.requests
    assert all(str(log.attributes.get("user.id")) in users for log in logs)
    assert "user-1" not in repr([log.attributes for log in logs])
