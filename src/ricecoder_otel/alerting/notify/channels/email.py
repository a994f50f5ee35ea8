"""Email over SMTP: STARTTLS (required unless ``require_tls: false``), AUTH, text and HTML parts.

SMTP answers decide retries: 4xx replies and lost connections are retried, 5xx replies (bad
credentials, refused recipients) are final. The password never appears in a result.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ricecoder_otel.alerting.notify.alert import iso
from ricecoder_otel.alerting.notify.channels.base import Channel, DeliveryResult
from ricecoder_otel.alerting.notify.notification import Notification


def render_text(notification: Notification) -> str:
    lines = [notification.title(), ""]
    for alert in notification.alerts:
        lines.append(f"- {alert.name} [{alert.status}] since {iso(alert.starts_at)}")
        lines += [f"    {k}: {v}" for k, v in sorted(alert.annotations.items())]
        lines.append("    labels: " + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())))
    return "\n".join(lines) + "\n"


def render_html(notification: Notification) -> str:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(a.name), html.escape(a.status),
            html.escape(a.annotations.get("summary", "")),
            html.escape(", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()))),
        )
        for a in notification.alerts
    )  # fmt: skip
    return (
        f'<html><body><h2>{html.escape(notification.title())}</h2><table border="1">'
        f"<tr><th>alert</th><th>status</th><th>summary</th><th>labels</th></tr>{rows}</table></body></html>"
    )


def build_message(notification: Notification, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.title()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-Id"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(render_text(notification))
    message.add_alternative(render_html(notification), subtype="html")
    return message


class EmailChannel(Channel):
    type = "email"

    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        config = self.config
        host, _, port = config.smarthost.rpartition(":")
        message = build_message(notification, config.from_, list(config.to))
        try:
            with smtplib.SMTP(host, int(port), local_hostname=config.hello, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
                    smtp.ehlo()
                elif config.require_tls:
                    return DeliveryResult(False, None, f"{config.smarthost} offers no STARTTLS and require_tls is on")
                if config.username:
                    password = config.password.get_secret_value() if config.password is not None else ""
                    smtp.login(config.username, password)
                refused = smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(
                error.smtp_error)  # fmt: skip
            return DeliveryResult(False, error.smtp_code, self.scrub(f"SMTP {error.smtp_code}: {reply}"),
                                  retryable=error.smtp_code < 500)  # fmt: skip
        except smtplib.SMTPRecipientsRefused as error:
            return DeliveryResult(False, None, self.scrub(f"recipients refused: {sorted(error.recipients)}"),
                                  retryable=False)  # fmt: skip
        except (smtplib.SMTPException, OSError) as error:
            return DeliveryResult(False, None, self.scrub(f"SMTP to {config.smarthost} failed: {error}"))
        if refused:
            return DeliveryResult(False, None, f"refused recipients: {sorted(refused)}", retryable=False)
        return DeliveryResult(True, 250, f"accepted by {config.smarthost} for {len(config.to)} recipient(s)")
