"""Error tracking in the example shop under ``opentelemetry-instrument``: one group per bug, with a
count, users and linked traces; resolved, then seen again, it is a regression."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.store import open_store
from tests.harness.shop import ShopProcess, drive, start_shop

FLAKY = "/payments/flaky"


def hit_flaky(shop: ShopProcess, times: int, users: list[str]) -> None:
    for n in range(times):
        request = urllib.request.Request(shop.base_url + FLAKY, headers={"X-User-Id": users[n % len(users)]})
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(request, timeout=10)
        assert failure.value.code == 500


def groups(store_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["errors", "list", "--store", str(store_path), "--json"]) == 0
    listed: list[dict[str, object]] = json.loads(capsys.readouterr().out)["groups"]
    return listed


def test_the_flaky_route_is_one_group_that_regresses_after_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = tmp_path / "telemetry.db"
    env = {
        "RICECODER_STORE_PATH": str(store_path),
        "RICECODER_ERROR_TRACKING__RELEASE": "shop@1.0",
        "RICECODER_ERROR_TRACKING__ENVIRONMENT": "e2e",
    }
    shop = start_shop(tmp_path, env)
    try:
        hit_flaky(shop, 12, ["ann", "bob", "cid"])
        stats = drive(shop, 2)
    finally:
        shop.stop()
    flaky_requests = 12 + stats.by_route[FLAKY]

    [group] = [g for g in groups(store_path, capsys) if g["error_type"] == "TimeoutError"]
    # Each failed request is one occurrence, although the span and Flask's error log both report it.
    assert group["count"] == flaky_requests, shop.output()[-3000:]
    assert group["users"] >= 3 and group["release"] == "shop@1.0" and group["environment"] == "e2e"
    assert group["culprit"] == "flaky_payment (shop/app.py)"
    assert group["service_name"] == "shop"

    assert main(["errors", "show", str(group["id"]), "--store", str(store_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    with open_store(str(store_path)) as store:
        server_traces = {s.trace_id for s in store.query_spans(limit=100_000) if s.kind == "SERVER"}
        records = store.query_logs(event_name="exception", limit=100_000)
    assert shown["trace_ids"] and set(shown["trace_ids"]) <= server_traces
    assert len([r for r in records if (r.attributes or {}).get("ricecoder.error.group_id") == group["id"]]) == (
        flaky_requests
    )

    assert main(["errors", "resolve", str(group["id"]), "--store", str(store_path)]) == 0
    capsys.readouterr()
    shop = start_shop(tmp_path, env)
    try:
        hit_flaky(shop, 1, ["dee"])
    finally:
        shop.stop()
    [again] = [g for g in groups(store_path, capsys) if g["id"] == group["id"]]
    assert again["status"] == "unresolved" and again["count"] == flaky_requests + 1
    with open_store(str(store_path)) as store:
        kinds = [(r.attributes or {}).get("ricecoder.error.group.kind")
                 for r in store.query_logs(event_name="ricecoder.error.group", limit=1000)
                 if (r.attributes or {}).get("ricecoder.error.group_id") == group["id"]]  # fmt: skip
    assert sorted(kinds) == ["new", "regression"]
