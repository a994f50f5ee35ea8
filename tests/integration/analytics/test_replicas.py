"""Two replica processes flush to one real PostgreSQL; the fleet's reports equal one process's."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ricecoder_otel.analytics import reports
from ricecoder_otel.analytics.engine import AnalyticsCore, Dataset
from ricecoder_otel.analytics.render import render
from ricecoder_otel.analytics.store import AnalyticsStore
from ricecoder_otel.cli import main as cli
from ricecoder_otel.store import open_store
from tests.harness.postgres import PostgresServer
from tests.integration.analytics.replica import RAW
from tests.unit.analytics.scenario import D0, END, EVENTS, at, config

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
_databases = itertools.count(1)
TABLES = (
    "analytics_activity",
    "analytics_steps",
    "analytics_profiles",
    "analytics_aliases",
    "analytics_anonymous",
    "analytics_sketches",
)


def run_replicas(dsn: str, parts: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env = {k: v for k, v in env.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.analytics.replica", dsn, str(n), str(parts)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n in range(parts)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out.decode(errors="replace")


def one_process() -> Dataset:
    core = AnalyticsCore(config(), clock=lambda: at(15, 23))
    core.release("1.0", at=EVENTS[0][2] - 60)
    for user, feature, when in EVENTS:
        core.track(RAW[user], feature, {"email": RAW[user]}, at=when)
    core.identify(RAW["a"], {"plan": "pro"}, at=at(0, 10))
    for user, account in (("a", "acme"), ("b", "acme"), ("c", "globex")):
        core.group(RAW[user], account, at=at(0, 10))
    return core.snapshot()


def from_store(dsn: str) -> Dataset:
    store = open_store(dsn, read_only=True)
    try:
        return AnalyticsStore(store, "reader").read(END, lg_k=config().sketch_lg_k, step_margin_s=86_400)
    finally:
        store.close()


def every_report(data: Dataset) -> dict[str, list[dict[str, object]]]:
    settings = config()
    made = {kind: reports.build(kind, data, settings, D0, END).rows for kind in reports.REPORT_KINDS}
    made["active-hll"] = reports.active_users(data, END, method="hll").rows
    made["engagement-account"] = reports.engagement(data, settings, END, by="account").rows
    made["engagement-product"] = reports.engagement(data, settings, END, by="product").rows
    # Sessions are counted per replica: a user whose events are split across replicas starts one in each.
    made["engagement"] = [{k: v for k, v in row.items() if k != "sessions"} for row in made["engagement"]]
    return made


@pytest.fixture
def dsn(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"analytics_{next(_databases)}")


def test_two_replicas_through_postgres_report_like_one_process(dsn: str) -> None:
    run_replicas(dsn, 2)
    fleet = from_store(dsn)
    assert every_report(fleet) == every_report(one_process())
    assert fleet.releases["1.0"].first == EVENTS[0][2] - 60
    curve = reports.build("adoption-curve", fleet, config(), D0, END, interval="day", feature="export").rows
    assert [r["users"] for r in curve] == [0, *[2] * 6, *[3] * 9]  # a, c on day 1; b on day 7
    active = {r["feature"]: r for r in reports.active_users(fleet, END, method="hll").rows}
    assert (active["*"]["mau"], active["search"]["mau"], active["export"]["mau"]) == (4, 3, 3)
    store = open_store(dsn, read_only=True)
    try:
        with store._transaction() as cur:  # type: ignore[attr-defined]
            cur.execute("SELECT COUNT(DISTINCT replica) FROM analytics_sketches")
            assert cur.fetchone()[0] == 2
    finally:
        store.close()


def test_no_raw_user_id_reaches_the_store_or_a_report(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_replicas(dsn, 2)
    store = open_store(dsn, read_only=True)
    try:
        with store._transaction() as cur:  # type: ignore[attr-defined]
            dumped = []
            for table in (*TABLES, "logs"):
                cur.execute(f"SELECT * FROM {table}")
                dumped += [repr(row) for row in cur.fetchall()]
    finally:
        store.close()
    text = "\n".join(dumped)
    assert len(dumped) > 10
    data = from_store(dsn)
    for kind in reports.REPORT_KINDS:
        for fmt in ("json", "csv", "md", "html"):
            text += render(reports.build(kind, data, config(), D0, END), fmt)
    for kind in ("adoption", "retention"):
        assert cli(["analytics", "report", kind, "--store", dsn, "--since", "2000d", "--json"]) == 0
        printed = capsys.readouterr().out
        assert '"search"' in printed or '"2024-01-01"' in printed
        text += printed
    for raw in RAW.values():
        assert raw not in text and raw.split("@")[0] not in text
