"""The one small interface every channel implements, and the HTTP POST they share.

A channel turns a :class:`Notification` into one request and reports a :class:`DeliveryResult`;
it never retries itself (the outbox does) and never puts a secret in ``detail``: anything that
could echo one (an exception text) goes through :meth:`Channel.scrub` first.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import SecretStr

from ricecoder_otel._version import __version__
from ricecoder_otel.alerting.notify.notification import Notification
from ricecoder_otel.config.secrets import MASK, redact_dsn

USER_AGENT = f"ricecoder-otel/{__version__}"
_MAX_BODY_SHOWN = 500


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt gave: ``ok``, else whether a retry can help and how long to wait at least."""

    ok: bool
    status: int | None = None
    detail: str = ""
    retryable: bool = True
    retry_after: float | None = None
    response: str = ""


class Channel(ABC):
    type: ClassVar[str]
    min_interval: ClassVar[float] = 0.0
    """Least time between two sends (Slack allows one message per second)."""
    actions: ClassVar[frozenset[str]] = frozenset({"notify"})
    """Notification actions it acts on; others are delivered as no-ops."""

    def __init__(self, config: Any, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock

    @property
    def name(self) -> str:
        return str(self.config.name)

    @property
    def send_resolved(self) -> bool:
        return bool(self.config.send_resolved)

    @property
    def timeout(self) -> float:
        return float(self.config.timeout.total_seconds())

    @abstractmethod
    def send(self, notification: Notification, message_id: str) -> DeliveryResult:
        """Deliver one notification (one attempt)."""

    def secrets(self) -> list[str]:
        """Every secret value in this channel's settings (masked out of any text we show)."""
        found: list[str] = []
        for value in self.config.__dict__.values():
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
        return found

    def scrub(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, MASK)
        return redact_dsn(text)

    def post(self, url: str, body: Any, headers: Mapping[str, str] | None = None) -> DeliveryResult:
        """POST ``body`` (JSON, or bytes as is) and classify the answer the way the outbox needs."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read(64 * 1024).decode("utf-8", "replace")
                return DeliveryResult(True, response.status, f"HTTP {response.status}", response=self._shown(text))
        except urllib.error.HTTPError as error:
            text = error.read(64 * 1024).decode("utf-8", "replace") if error.fp is not None else ""
            return classify_http(error.code, error.headers.get("Retry-After"), self._shown(text), self.clock())
        except TimeoutError:
            return DeliveryResult(False, None, f"timed out after {self.timeout:g}s")
        except urllib.error.URLError as error:
            return DeliveryResult(False, None, self.scrub(f"cannot reach the receiver: {error.reason}"))
        except OSError as error:
            return DeliveryResult(False, None, self.scrub(f"cannot reach the receiver: {error}"))

    def _shown(self, text: str) -> str:
        return self.scrub(text.strip()[:_MAX_BODY_SHOWN])


def classify_http(status: int, retry_after: str | None, body: str, now: float) -> DeliveryResult:
    """5xx and 429 are retried (429 after ``Retry-After``); any other 4xx is final."""
    wait = parse_retry_after(retry_after, now)
    detail = f"HTTP {status}" + (f": {body}" if body else "")
    if status == 429:
        return DeliveryResult(False, status, detail, retryable=True, retry_after=wait, response=body)
    if 400 <= status < 500:
        return DeliveryResult(False, status, detail, retryable=False, response=body)
    return DeliveryResult(False, status, detail, retryable=True, retry_after=wait, response=body)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
