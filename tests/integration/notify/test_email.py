"""Email to a real SMTP server (aiosmtpd) that requires STARTTLS and authentication."""

from __future__ import annotations

import email
import ssl
import subprocess
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.harness.smtp import start_smtp
from tests.integration.notify.conftest import notification

PASSWORD = "smtp-pass-7f3a"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, bool]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.messages.append((envelope, session.ssl is not None))
        return "250 OK"


def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"alerts" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # unhandled: the server answers 535 itself


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    inbox = Inbox()
    controller, port = start_smtp(inbox, tls_context=context, require_starttls=True, authenticator=authenticate,
                                  auth_require_tls=True)  # fmt: skip
    yield inbox, port
    controller.stop()


def channel(port: int, cert: Path, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"name": "mail", "type": "email", "smarthost": f"127.0.0.1:{port}", "from": "alerts@shop.example",
            "to": ["oncall@shop.example", "lead@shop.example"], "username": "alerts", "password": password,
            "ca_file": str(cert), "timeout": "5s", **extra}  # fmt: skip


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_email_goes_through_starttls_and_auth_with_text_and_html(
    make_outbox: Any, smtp: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = smtp
    outbox = make_outbox([channel(port, certificate[0])])
    msg = outbox.queue("mail", notification())
    outbox.worker.run_once()
    assert outbox.state(msg).state == "delivered"
    [(envelope, over_tls)] = inbox.messages
    assert over_tls
    assert envelope.mail_from == "alerts@shop.example"
    assert envelope.rcpt_tos == ["oncall@shop.example", "lead@shop.example"]
    parsed: Message = email.message_from_bytes(envelope.original_content or b"")
    assert parsed["Subject"] == "[FIRING:1] HighErrorRate" and parsed["Message-Id"] and parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in parsed.walk() if not p.is_multipart()}
    assert "5xx ratio above 2%" in parts["text/plain"]
    assert "<h2>[FIRING:1] HighErrorRate</h2>" in parts["text/html"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_wrong_password_is_final_and_never_shown(
    make_outbox: Any, smtp: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = smtp
    outbox = make_outbox([channel(port, certificate[0], password="not-the-password")])
    msg = outbox.queue("mail", notification())
    outbox.worker.run_once()
    row = outbox.state(msg)
    assert (row.state, row.last_status) == ("dead", 535)
    assert "not-the-password" not in row.last_error and inbox.messages == []


def test_require_tls_refuses_a_server_without_starttls(make_outbox: Any, certificate: tuple[Path, Path]) -> None:
    inbox = Inbox()
    controller, port = start_smtp(inbox)
    try:
        outbox = make_outbox([channel(port, certificate[0])])
        msg = outbox.queue("mail", notification())
        outbox.worker.run_once()
        row = outbox.state(msg)
        assert row.state == "pending" and "offers no STARTTLS" in row.last_error and inbox.messages == []
    finally:
        controller.stop()
