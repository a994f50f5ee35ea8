"""A real SMTP server (aiosmtpd) on a free loopback port, moved to a fresh port if the first is taken."""

from __future__ import annotations

import errno
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness.ports import PortTaken, free_port, start_with_fresh_ports


def start_smtp(handler: Any, **options: Any) -> tuple[Controller, int]:
    """Start aiosmtpd's Controller for ``handler`` on 127.0.0.1; returns it (stop it yourself) and its port."""

    def attempt(_: int) -> tuple[Controller, int]:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        try:
            controller.start()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortTaken("aiosmtpd", str(error)) from None
            raise
        return controller, port

    return start_with_fresh_ports(attempt, "aiosmtpd")
