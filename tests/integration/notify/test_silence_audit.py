"""Silences set through the Python API in an application running the pipeline are audited without
the caller passing the event hub (the running pipeline's hub is used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ricecoder_otel.compliance.audit import verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL

KEY = "a-checkpoint-key-of-32-characters"
CHILD = textwrap.dedent(
    """
    import sys, time
    import ricecoder_otel
    from ricecoder_otel.alerting.notify.api import add_silence, expire_silence
    from ricecoder_otel.store import open_store

    pipeline = ricecoder_otel.configure()
    store = open_store(sys.argv[1])
    now = time.time()
    silence = add_silence(store, ['service="checkout"'], ends_at=now + 3600, created_by="ana", comment="deploy")
    expire_silence(store, silence.id)
    store.close()
    pipeline.shutdown()
    print(silence.id)
    """
)


def test_silences_from_the_python_api_are_audited_through_the_running_pipeline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(RICECODER_COMPLIANCE__AUDIT__PATH=str(tmp_path / "audit"),
               RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY=KEY, RICECODER_STORE_PATH=str(tmp_path / "store.db"),
               OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "silences.db")], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    silence_id = done.stdout.strip().splitlines()[-1]
    records = [json.loads(line) for line in (tmp_path / "audit" / JOURNAL).read_bytes().splitlines()]
    silences = [r for r in records if r["action"].startswith("alert.silence.")]
    assert [(r["action"], r["resource"]) for r in silences] == [
        ("alert.silence.add", silence_id), ("alert.silence.expire", silence_id)]  # fmt: skip
    assert silences[0]["actor"] == "ana" and silences[0]["details"]["matchers"] == ['service="checkout"']
    assert verify_journal(tmp_path / "audit", KEY.encode()).ok
