"""Dashboards as a capability: the live server inside the application, when a port is configured.

On only when ``dashboards.enabled`` and ``dashboards.port`` is set (0, the default, serves none:
``ricecoder-otel dashboard serve`` runs the same server as its own process). It reads the
store at ``store.location`` through its own read-only connection, on its own threads; a failure
to start (port in use, a public interface without a token) is reported once and the application
carries on. A forked child (gunicorn workers) does not serve: the parent holds the port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ricecoder_otel.kernel.capability import Capability, InstallContext
from ricecoder_otel.kernel.guard import report_once

if TYPE_CHECKING:
    from ricecoder_otel.config import MonitoringConfig
    from ricecoder_otel.config.model import DashboardsConfig
    from ricecoder_otel.dashboards.server import DashboardServer
    from ricecoder_otel.store.sql import SqlStore


class DashboardsCapability(Capability):
    name = "dashboards"
    section = "dashboards"

    def __init__(self) -> None:
        self.settings: DashboardsConfig | None = None
        self.store_location: str | None = None
        self.server: DashboardServer | None = None
        self._store: SqlStore | None = None
        self._forked = False

    def install(self, context: InstallContext) -> None:
        self.settings = context.config.dashboards
        self.store_location = context.store_location

    def start(self) -> None:
        settings = self.settings
        if self.server is not None or settings is None or not settings.port or self._forked:
            return
        from ricecoder_otel.dashboards.builtin import builtin_dashboards
        from ricecoder_otel.dashboards.server import DashboardServer, DashboardServerError
        from ricecoder_otel.store import open_store
        from ricecoder_otel.store.sql import SqlStore

        store = open_store(self.store_location, read_only=True)
        token = settings.token.get_secret_value() if settings.token is not None else None
        try:
            if not isinstance(store, SqlStore):
                raise DashboardServerError(f"{store.display_location}: dashboards need a SQL store")
            self.server = DashboardServer(store, builtin_dashboards(), host=settings.host, port=settings.port,
                                          token=token, default_refresh=settings.refresh_interval).start()  # fmt: skip
            self._store = store
        except DashboardServerError as exc:
            store.close()
            report_once("dashboards", "the dashboard server did not start: %s", exc)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def apply(self, old: MonitoringConfig, new: MonitoringConfig) -> None:
        self.settings = new.dashboards
        if old.dashboards != new.dashboards:
            self.stop()
            self.start()

    def after_fork(self) -> None:
        self._forked = True
        self.server = None  # the parent's threads and socket are not ours
        self._store = None

    def shutdown(self) -> None:
        self.stop()
