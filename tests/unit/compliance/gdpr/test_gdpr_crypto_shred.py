"""Crypto-shredding: audit records about a subject carry a pseudonym and sealed fields under the
subject's own key; erasure destroys the key, so they can no longer be linked or read, and the
chain still verifies."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ricecoder_otel.compliance.audit import AuditError, AuditTrail, verify_journal
from ricecoder_otel.compliance.audit.journal import JOURNAL, AuditJournal
from ricecoder_otel.compliance.audit.subject_keys import DIRECTORY, SubjectKey, SubjectKeys, subject_ref
from ricecoder_otel.compliance.gdpr import access_export, erase, subject
from ricecoder_otel.store import Store

KEY = b"shred-test-checkpoint-key-32byte"
NOW_S = 1_800_000_000.0
ALICE = "alice@example.com"
BOB = "bob@example.org"


def trail(directory: Path) -> AuditTrail:
    return AuditTrail(lambda: AuditJournal(directory, key=KEY, clock=lambda: NOW_S), clock=lambda: NOW_S)


def read(trail_: AuditTrail, who: str, diagnosis: str) -> None:
    trail_.record("patient.read", "record/7", actor="dr-house", trace_id="", span_id="", subject=who,
                  personal={"email": who, "diagnosis": diagnosis})  # fmt: skip


def records(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / JOURNAL).read_text().splitlines()]


def test_erasure_shreds_the_subject_key_and_the_chain_still_verifies(
    make_store: Callable[..., Store], tmp_path: Path
) -> None:
    store, audit_dir = make_store(), tmp_path / "audit"
    t = trail(audit_dir)
    read(t, ALICE, "influenza")
    read(t, ALICE, "sprained ankle")
    read(t, BOB, "measles")
    text = (audit_dir / JOURNAL).read_text()
    assert ALICE not in text and "influenza" not in text and "measles" not in text
    first, second, bob = (r["details"] for r in records(audit_dir))
    assert first["subject"] == second["subject"] != bob["subject"]  # one pseudonym per subject: records join
    assert first["subject"].startswith("sk:") and first["subject_key"] == second["subject_key"]

    alice = subject(ALICE)
    held = access_export(store, alice, audit=lambda *a, **k: None, clock=lambda: NOW_S, journal=audit_dir)
    assert [r["personal"]["diagnosis"] for r in held["audit_records"]] == ["influenza", "sprained ankle"]

    def audit(action: str, resource: str, outcome: str = "success", *, actor: str | None = None, **d: Any) -> Any:
        return t.record(action, resource, outcome, actor=actor, trace_id="", span_id="", details=d)

    keys = SubjectKeys(audit_dir / DIRECTORY)
    done = erase(store, alice, audit=audit, clock=lambda: NOW_S, keys=keys)
    assert done.key_shredded and keys.get(alice.ref) is None
    assert not (audit_dir / DIRECTORY / f"{alice.ref}.key").exists()
    erasure = records(audit_dir)[-1]
    assert erasure["action"] == "gdpr.erasure" and erasure["details"]["key_shredded"] is True

    result = verify_journal(audit_dir, KEY, deep=True)
    assert result.ok and result.records == 4  # the sealed records stay, unchanged
    assert (audit_dir / JOURNAL).read_text().count(first["sealed"]) == 1
    after = access_export(store, alice, audit=lambda *a, **k: None, clock=lambda: NOW_S, journal=audit_dir)
    assert [r for r in after["audit_records"] if "sealed" in r["details"]] == []  # nothing links them to her
    bob_held = access_export(store, subject(BOB), audit=lambda *a, **k: None, clock=lambda: NOW_S, journal=audit_dir)
    assert [r["personal"]["diagnosis"] for r in bob_held["audit_records"]] == ["measles"]  # others keep theirs

    read(t, ALICE, "checkup")  # a new key: nothing joins the new record to the shredded ones
    fresh = records(audit_dir)[-1]["details"]
    assert fresh["subject_key"] != first["subject_key"] and fresh["subject"] != first["subject"]
    t.close()
    store.close()


def test_sealed_fields_open_only_with_their_own_key(tmp_path: Path) -> None:
    keys = SubjectKeys(tmp_path)
    key = keys.get_or_create(subject_ref(ALICE))
    assert keys.get_or_create(subject_ref(ALICE)) == key
    assert oct((tmp_path / f"{subject_ref(ALICE)}.key").stat().st_mode & 0o777) == "0o600"
    sealed = key.seal({"diagnosis": "influenza"})
    assert key.open(sealed) == {"diagnosis": "influenza"}
    other = SubjectKey(key.key_id, b"\x01" * 32)
    with pytest.raises(AuditError, match="do not open"):
        other.open(sealed)
    with pytest.raises(AuditError, match="do not open"):
        key.open(sealed[:-4] + "AAAA")
    assert keys.shred(subject_ref(ALICE)) and not keys.shred(subject_ref(ALICE))


def test_personal_fields_without_a_subject_are_refused(tmp_path: Path) -> None:
    t = trail(tmp_path)
    with pytest.raises(ValueError, match="subject"):
        t.record("x", "y", personal={"email": ALICE})
    t.close()


def test_concurrent_first_uses_of_a_subject_agree_on_one_key(tmp_path: Path) -> None:
    keys = SubjectKeys(tmp_path)
    found: list[SubjectKey] = []
    threads = [threading.Thread(target=lambda: found.append(keys.get_or_create(subject_ref(BOB)))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{subject_ref(BOB)}.key"]  # no temporary file left
