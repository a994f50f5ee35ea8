"""Ed25519 checkpoints: a third party holding only the public key verifies the chain's signed
state, and forged, re-signed or stripped checkpoints and heads are caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.compliance.audit import AuditError, AuditJournal, WrongKeyError, verify_journal
from ricecoder_otel.compliance.audit.engine import Checkpoint, CheckpointPolicy, record_fields
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, HEAD, JOURNAL
from ricecoder_otel.compliance.audit.signing import PublicKey, SigningKey
from ricecoder_otel.compliance.checks.catalog import audit_chain_verifies
from ricecoder_otel.compliance.checks.evidence import gather
from ricecoder_otel.config import MonitoringConfig

KEY = b"h" * 32


def fill(directory: Path, signing: SigningKey | None, n: int = 7) -> None:
    journal = AuditJournal(
        directory, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(3, 1e9), fsync=False, signing_key=signing
    )
    for i in range(n):
        journal.append(record_fields(ts=1.7e9 + i, actor="a", action="x", resource=f"r/{i}", outcome="ok"))
    journal.close()


def checkpoints(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / CHECKPOINTS).read_text().splitlines()]


def write_checkpoints(directory: Path, items: list[dict[str, object]]) -> None:
    (directory / CHECKPOINTS).write_text("".join(json.dumps(c, sort_keys=True) + "\n" for c in items))


@pytest.fixture
def signing() -> SigningKey:
    return SigningKey.generate()


def test_the_public_key_alone_verifies_checkpoints_and_head(tmp_path: Path, signing: SigningKey) -> None:
    fill(tmp_path, signing)
    public = PublicKey.load(signing.public.pem())
    result = verify_journal(tmp_path, None, public_key=public, deep=True)
    assert result.ok and result.records == 7 and result.checkpoints == 3 and result.signatures == ("ed25519",)
    both = verify_journal(tmp_path, KEY, public_key=public)
    assert both.ok and both.signatures == ("hmac", "ed25519")
    assert all(c["sig_key_id"] == signing.key_id for c in checkpoints(tmp_path))


def test_a_chain_rewritten_and_re_signed_with_the_hmac_key_fails_public_verification(
    tmp_path: Path, signing: SigningKey
) -> None:
    """Whoever holds the HMAC key (kept beside the journal by default) can rewrite records and re-sign
    the checkpoints and head; without the private key they cannot produce the Ed25519 signatures."""
    fill(tmp_path, signing)
    originals = {Checkpoint.from_json(c).signed_bytes(): str(c["sig"]) for c in checkpoints(tmp_path)}

    class Forger:
        key_id = signing.key_id

        def sign(self, message: bytes) -> str:
            return originals.get(message, "00" * 64)  # reuse a genuine signature where the bytes are unchanged

    forged = tmp_path / "forged"
    journal = AuditJournal(forged, key=KEY, clock=lambda: 1.7e9, policy=CheckpointPolicy(3, 1e9), fsync=False,
                           signing_key=Forger())  # fmt: skip
    for i in range(7):
        resource = "r/forged" if i == 4 else f"r/{i}"
        journal.append(record_fields(ts=1.7e9 + i, actor="a", action="x", resource=resource, outcome="ok"))
    journal.close()
    for name in (JOURNAL, CHECKPOINTS, HEAD):
        (tmp_path / name).write_bytes((forged / name).read_bytes())
    assert verify_journal(tmp_path, KEY).ok  # the HMAC alone cannot tell
    public_only = verify_journal(tmp_path, None, public_key=signing.public)
    assert not public_only.ok and public_only.first_bad_seq == 4


@pytest.mark.parametrize("change", ["edit_range", "strip_signature", "other_key"])
def test_tampered_checkpoints_fail_public_verification(tmp_path: Path, signing: SigningKey, change: str) -> None:
    fill(tmp_path, signing)
    items = checkpoints(tmp_path)
    if change == "edit_range":
        items[1]["last_hash"] = "f" * 64
    elif change == "strip_signature":
        del items[1]["sig"], items[1]["sig_key_id"]
    else:
        other = SigningKey.generate()
        message = Checkpoint.from_json(items[1]).signed_bytes()
        items[1]["sig"] = other.sign(message)
    write_checkpoints(tmp_path, items)
    result = verify_journal(tmp_path, None, public_key=signing.public)
    assert not result.ok and result.first_bad_seq == 4 and "checkpoint 1" in str(result.problem)


def test_a_forged_or_unsigned_head_fails_public_verification(tmp_path: Path, signing: SigningKey) -> None:
    fill(tmp_path, signing, n=8)  # records 7 and 8 after the last checkpoint: only the head covers them
    head = json.loads((tmp_path / HEAD).read_bytes())
    (tmp_path / HEAD).write_text(json.dumps({**head, "seq": 7}))
    assert "head" in str(verify_journal(tmp_path, None, public_key=signing.public).problem)
    (tmp_path / HEAD).write_text(json.dumps({k: v for k, v in head.items() if k not in ("sig", "sig_key_id")}))
    assert not verify_journal(tmp_path, None, public_key=signing.public).ok
    assert verify_journal(tmp_path, KEY).ok  # the HMAC still holds: only the public check needs the signature


def test_truncation_after_the_last_checkpoint_is_seen_with_the_public_key(tmp_path: Path, signing: SigningKey) -> None:
    fill(tmp_path, signing, n=8)
    path = tmp_path / JOURNAL
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:7]))
    result = verify_journal(tmp_path, None, public_key=signing.public)
    assert not result.ok and result.first_bad_seq == 8


def test_a_journal_without_ed25519_signatures_and_a_wrong_public_key(tmp_path: Path, signing: SigningKey) -> None:
    fill(tmp_path, None)
    assert verify_journal(tmp_path, KEY).ok
    unsigned = verify_journal(tmp_path, None, public_key=signing.public)
    assert not unsigned.ok and unsigned.first_bad_seq == 1
    other = tmp_path / "other"
    fill(other, signing)
    with pytest.raises(WrongKeyError, match="wrong public key"):
        verify_journal(other, None, public_key=SigningKey.generate().public)
    with pytest.raises(AuditError, match="no key"):
        verify_journal(other, None)


def test_bad_keys_are_clear_errors() -> None:
    with pytest.raises(AuditError, match="not an Ed25519 private key"):
        SigningKey.load("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(AuditError, match="not an Ed25519 public key"):
        PublicKey.load("abcd")
    seed = "11" * 32
    assert SigningKey.load(seed).key_id == SigningKey.load(SigningKey.load(seed).private_pem()).key_id


def test_cli_public_key_then_third_party_verify(
    tmp_path: Path, signing: SigningKey, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RICECODER_CONFIG_FILE", raising=False)
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__SIGNING_KEY", signing.private_pem())
    monkeypatch.setenv("RICECODER_COMPLIANCE__AUDIT__CHECKPOINT_KEY", KEY.decode())
    assert main(["audit", "public-key"]) == 0
    pem = capsys.readouterr().out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    assert main(["audit", "public-key", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["key_id"] == signing.key_id
    journal = tmp_path / "journal"
    fill(journal, signing)
    assert main(["audit", "verify", "--dir", str(journal)]) == 0
    assert "hmac + ed25519" in capsys.readouterr().out
    monkeypatch.setenv("RICECODER_CONFIG_FILE", str(tmp_path / "absent.yaml"))  # the third party has no config
    (tmp_path / "pub.pem").write_text(pem)
    assert main(["audit", "verify", "--dir", str(journal), "--public-key", str(tmp_path / "pub.pem"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signatures"] == ["ed25519"]
    items = checkpoints(journal)
    items[0]["last_seq"] = 2
    write_checkpoints(journal, items)
    assert main(["audit", "verify", "--dir", str(journal), "--public-key", str(tmp_path / "pub.pem")]) == 1
    assert "TAMPERED at sequence number 1" in capsys.readouterr().out


def test_the_audit_chain_check_verifies_ed25519_signatures_when_a_signing_key_is_configured(
    tmp_path: Path, signing: SigningKey
) -> None:
    fill(tmp_path, signing)
    config = MonitoringConfig.model_validate(
        {"compliance": {"audit": {"path": str(tmp_path), "signing_key": signing.private_pem()}}}
    )
    evidence = gather(config, 1.6e9, 1.8e9, env={}, store=None, journal_dir=tmp_path, key=KEY)
    result = audit_chain_verifies(evidence)
    assert result.status == "pass" and result.evidence["signatures"] == ["hmac", "ed25519"]
    items = checkpoints(tmp_path)
    items[2]["sig"] = SigningKey.generate().sign(Checkpoint.from_json(items[2]).signed_bytes())
    write_checkpoints(tmp_path, items)
    tampered = audit_chain_verifies(gather(config, 1.6e9, 1.8e9, env={}, store=None, journal_dir=tmp_path, key=KEY))
    assert tampered.status == "fail" and tampered.evidence["first_bad_seq"] == 7
