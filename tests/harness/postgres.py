"""Start a throw-away PostgreSQL server for tests: initdb into a temp dir, loopback, free port.

PostgreSQL refuses to run as root, so as root the cluster is owned by and run as the
``postgres`` system user (created by Debian's package). The server process is started
directly (no wrapper), so teardown signals exactly that PID. A start that lost its port to
another process is retried on a fresh port (same cluster), a bounded number of times.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import PortTaken, bind_failed, free_port, start_with_fresh_ports

PG_BIN = Path(os.environ.get("RICECODER_PG_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"
READY_TIMEOUT_S = 60.0


@dataclass
class PostgresServer:
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    user: str = "postgres"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def log(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _run_as() -> dict[str, object]:
    """Popen arguments that drop root to the postgres user (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(RUN_AS)
    except KeyError:
        raise RuntimeError(
            f"running as root but there is no '{RUN_AS}' user to run PostgreSQL as; "
            "install it with: apt-get install -y postgresql (or run .ci/steps/postgres.sh)"
        ) from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def start_postgres() -> PostgresServer:
    """initdb a new cluster, start it on 127.0.0.1:<free port>, wait until it accepts queries."""
    for tool in ("initdb", "postgres"):
        if not (PG_BIN / tool).exists():
            raise RuntimeError(
                f"{PG_BIN / tool} not found: install PostgreSQL 15 with .ci/steps/postgres.sh "
                "(apt-get install -y postgresql) or set RICECODER_PG_BIN"
            )
    drop = _run_as()
    data_dir = Path(tempfile.mkdtemp(prefix="ricecoder-pg-"))
    if drop:
        os.chown(data_dir, int(drop["user"]), int(drop["group"]))  # type: ignore[call-overload]
    cluster = data_dir / "cluster"
    init = subprocess.run(
        [str(PG_BIN / "initdb"), "-D", str(cluster), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync", "--no-instructions"],
        capture_output=True, text=True, **drop,  # type: ignore[call-overload]
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({init.returncode}): {init.stderr.strip() or init.stdout.strip()}")
    try:
        return start_with_fresh_ports(lambda _: _start(data_dir, cluster, drop), "PostgreSQL")
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise


def _start(data_dir: Path, cluster: Path, drop: dict[str, object]) -> PostgresServer:
    port = free_port()
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - the server writes to it until stopped
    process = subprocess.Popen(
        [str(PG_BIN / "postgres"), "-D", str(cluster), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(data_dir), "-c", "fsync=off", "-c", "max_connections=50"],
        stdout=log, stderr=subprocess.STDOUT, **drop,  # type: ignore[call-overload]
    )  # fmt: skip
    log.close()
    server = PostgresServer(port=port, data_dir=data_dir, process=process)
    try:
        _wait_ready(server)
    except BaseException:
        _stop_process(server)
        raise
    return server


def _wait_ready(server: PostgresServer) -> None:
    import psycopg

    deadline = time.monotonic() + READY_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            if bind_failed(server.log()):
                raise PortTaken("PostgreSQL", server.log())
            raise RuntimeError(f"PostgreSQL exited with {server.process.returncode}:\n{server.log()[-2000:]}")
        try:
            with psycopg.connect(server.dsn(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            last_error = str(exc)
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL not ready after {READY_TIMEOUT_S}s: {last_error}\n{server.log()[-2000:]}")


def stop_postgres(server: PostgresServer) -> None:
    """Fast shutdown (SIGINT) of the server's PID, SIGKILL if it lingers, then remove its files."""
    _stop_process(server)
    shutil.rmtree(server.data_dir, ignore_errors=True)


def _stop_process(server: PostgresServer) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
