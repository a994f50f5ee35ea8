"""A process killed with SIGKILL while notifications are pending delivers each exactly once after restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ricecoder_otel.alerting.notify.tables import NotifyTables
from ricecoder_otel.store.sqlite import SQLiteStore
from tests.harness.http_receiver import Answer, Receiver

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[3]


def spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p))
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env)


def wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sigkill_with_pending_notifications_then_restart_delivers_each_exactly_once(tmp_path: Path) -> None:
    receiver = Receiver(default=Answer(503, "try later", delay=0.05))
    store_path = str(tmp_path / "store.db")
    url = receiver.url + "/hook"
    try:
        first = spawn(store_path, url, "fire", "5")
        try:
            # Every notification has been attempted (and refused) at least once; keep them in flight.
            wait(lambda: len({r.headers["webhook-id"] for r in receiver.received()}) == 5, 60, "5 attempted messages")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        tried_ids = {r.headers["webhook-id"] for r in receiver.received()}
        refused = len(receiver.received())
        with SQLiteStore(store_path) as store:
            left = NotifyTables(store).rows()
        assert len(left) == 5 and {r.state for r in left} <= {"pending", "sending"}

        receiver.default = Answer(202, "")
        second = spawn(store_path, url, "resume")
        try:
            assert second.stdout is not None and second.stdout.readline().strip() == "ready"
            with SQLiteStore(store_path) as store:
                tables = NotifyTables(store)
                wait(lambda: [r.state for r in tables.rows()] == ["delivered"] * 5, 60, "5 deliveries")
                rows = tables.rows()
        finally:
            second.terminate()
            second.wait(10)
        accepted = receiver.received()[refused:]
        accepted_ids = [r.headers["webhook-id"] for r in accepted]
        # The same five messages (same ids as before the crash), each accepted once; nothing new was queued.
        assert sorted(accepted_ids) == sorted(tried_ids) and len(accepted_ids) == 5
        assert {r.id for r in rows} == tried_ids
        assert sorted(r.json()["groupLabels"]["alertname"] for r in accepted) == [f"Crash{i}" for i in range(5)]
    finally:
        receiver.close()
