"""The Art. 33 breach register: 72-hour notification, reasons for a delay, the Art. 33(3) content,
every entry audited, and the GDPR report's Art. 33 control evaluated from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.compliance.checks.catalog import breach_notification
from ricecoder_otel.compliance.checks.evidence import gather
from ricecoder_otel.compliance.gdpr.breaches import BreachRegister
from ricecoder_otel.compliance.gdpr.requests import RequestError
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.store import Store, open_store

HOUR = 3600.0
AWARE = 1_800_000_000.0
NOW = AWARE + 200 * HOUR


def describe(**changes: Any) -> dict[str, Any]:
    return {
        "aware_s": AWARE, "nature": "backup bucket made public", "categories": "customers; order history",
        "subjects_approx": 1200, "records_approx": 5400, "contact": "dpo@example.com",
        "consequences": "names and addresses exposed", "measures": "bucket closed, keys rotated", **changes,
    }  # fmt: skip


def check(store: Store, start: float = AWARE - HOUR, end: float = NOW) -> Any:
    evidence = gather(MonitoringConfig(), start, end, env={}, store=store, journal_dir=None, key=None)
    return breach_notification(evidence)


def test_notification_within_72_hours_or_with_reasons(make_store: Callable[..., Store]) -> None:
    store = make_store()
    audited: list[tuple[str, str]] = []
    register = BreachRegister(store, audit=lambda action, resource, *a, **k: audited.append((action, resource)),
                              clock=lambda: NOW)  # fmt: skip
    assert check(store).status == "pass"  # an empty register: nothing recorded in the period
    prompt = register.record(**describe())
    assert check(store, end=AWARE + 71 * HOUR).status == "pass"  # open, with time left
    register.notify(prompt.id, at_s=AWARE + 70 * HOUR)
    late = register.record(**describe(nature="laptop stolen"))
    result = check(store)
    assert result.status == "fail" and result.evidence["late"] == [late.id]  # 200 h and not notified
    with pytest.raises(ValueError, match="reasons for the delay"):
        register.notify(late.id, at_s=AWARE + 80 * HOUR)
    register.notify(late.id, at_s=AWARE + 80 * HOUR, reason="scope unknown until the forensic report")
    with pytest.raises(RequestError, match="already notified"):
        register.notify(late.id, at_s=AWARE + 90 * HOUR)
    result = check(store)
    assert result.status == "pass", result.summary
    [first, second] = result.evidence["breaches"]
    assert first["hours_to_notification"] == 70.0 and second["delay_reason"].startswith("scope")
    assert [a for a, _ in audited] == ["gdpr.breach.record", "gdpr.breach.notify", "gdpr.breach.record",
                                       "gdpr.breach.notify"]  # fmt: skip
    store.close()


def test_a_breach_without_the_art_33_3_content_is_refused(make_store: Callable[..., Store]) -> None:
    store = make_store()
    register = BreachRegister(store, audit=lambda *a, **k: None, clock=lambda: NOW)
    with pytest.raises(ValueError, match="consequences, measures"):
        register.record(**describe(consequences=" ", measures=""))
    with pytest.raises(ValueError, match="future"):
        register.record(**describe(aware_s=NOW + HOUR))
    assert register.list() == []
    store.close()


def test_cli_record_notify_list_and_the_gdpr_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RICECODER_CONFIG_FILE", raising=False)
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__PATH", str(tmp_path / "audit"))
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", "cli-checkpoint-key-of-32-characters")
    db = str(tmp_path / "telemetry.db")
    created = open_store(db)
    created.schema_version()  # connect and migrate: the commands open existing stores only
    created.close()
    args = ["--nature", "mail sent to wrong list", "--categories", "subscribers; email", "--subjects", "40",
            "--records", "40", "--contact", "dpo@example.com", "--consequences", "addresses disclosed",
            "--measures", "recall requested"]  # fmt: skip
    assert main(["gdpr", "breach", "record", "--aware-at", "2020-01-01T00:00:00Z", *args, "--store", db,
                 "--json"]) == 0  # fmt: skip
    [breach] = json.loads(capsys.readouterr().out)["breaches"]
    assert breach["on_time"] is False and breach["deadline"] == "2020-01-04T00:00:00Z"
    assert main(["gdpr", "breach", "list", "--store", db]) == 1
    assert "LATE" in capsys.readouterr().out
    assert main(["compliance", "report", "--standard", "GDPR", "--since", "36500d", "--store", db, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {c["id"]: c["status"] for c in report["controls"]}["Art.33"] == "not_satisfied"
    code = main(["gdpr", "breach", "notify", breach["id"], "--at", "2020-01-05T00:00:00Z", "--store", db])
    assert code == 2 and "reasons for the delay" in capsys.readouterr().err
    assert main(["gdpr", "breach", "notify", breach["id"], "--at", "2020-01-05T00:00:00Z", "--reason",
                 "the list owner reported it late", "--store", db]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["gdpr", "breach", "list", "--store", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == 0
    assert main(["gdpr", "breach", "notify", "no-such-id", "--store", db]) == 1
    assert main(["gdpr", "breach", "record", "--aware-at", "yesterday", *args, "--store", db]) == 2
    assert "ISO 8601" in capsys.readouterr().err
    journal = (tmp_path / "audit" / "journal.jsonl").read_text()
    assert journal.count('"action":"gdpr.breach.record"') == 1 and journal.count('"action":"gdpr.breach.notify"') == 1
