"""Our own warnings reach the console once, even when the log pipeline is the broken part."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ricecoder_otel.kernel import guard
from ricecoder_otel.kernel.guard import report_once, reset_reports, shielded
from ricecoder_otel.kernel.selftelemetry import SELF_TELEMETRY

LINE = "ricecoder-otel: WARNING ricecoder-otel probe: store is broken: disk"


def test_a_report_is_printed_once_and_again_after_a_reset(capsys: pytest.CaptureFixture[str]) -> None:
    report_once("probe", "store is broken: %s", "disk")
    report_once("probe", "store is broken: %s", "disk")
    report_once("probe", "store is broken: %s", "other disk")  # another cause: its own line
    assert capsys.readouterr().err.splitlines() == [LINE, LINE.replace("disk", "other disk")]
    reset_reports()
    report_once("probe", "store is broken: %s", "disk")
    assert capsys.readouterr().err.splitlines() == [LINE]


def test_a_failing_hook_is_counted_every_time_and_printed_once(capsys: pytest.CaptureFixture[str]) -> None:
    @shielded("probe", default=-1)
    def hook() -> int:
        raise KeyError("x")

    assert [hook() for _ in range(3)] == [-1, -1, -1]
    assert SELF_TELEMETRY.snapshot().errors == {"probe": 3}
    assert capsys.readouterr().err.count("ricecoder-otel probe: internal error KeyError") == 1


def test_the_handler_is_attached_once() -> None:
    logger = logging.getLogger("ricecoder_otel")
    assert guard.install_stderr_handler() is guard.STDERR_HANDLER
    assert [h for h in logger.handlers if getattr(h, "ricecoder_stderr", False)] == [guard.STDERR_HANDLER]
    assert logger.propagate  # records still reach the root logger and OpenTelemetry's handler


def test_an_application_console_handler_prints_it_instead(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("app: %(message)s"))
    root.addHandler(console)
    try:
        report_once("probe", "store is broken: %s", "disk")
    finally:
        root.removeHandler(console)
    assert capsys.readouterr().err.splitlines() == ["app: ricecoder-otel probe: store is broken: disk"]


SCRIPT = textwrap.dedent(
    """
    import logging
    import ricecoder_otel
    from ricecoder_otel.kernel.guard import report_once

    pipeline = ricecoder_otel.configure(instrument_logging=True)
    # OpenTelemetry's handler on the root logger, and no console handler of the application's.
    root_handlers = [type(h).__name__ for h in logging.getLogger().handlers]
    assert root_handlers == ["LoggingHandler"], root_handlers
    tracer = pipeline.tracer_provider.get_tracer("t")
    for _ in range(3):
        with tracer.start_as_current_span("work"):
            logging.getLogger("app").warning("app warning")
        report_once("probe", "store is broken: %s", "disk")
        assert pipeline.force_flush(5_000) is not None
    pipeline.shutdown()
    print("finished")
    """
)


def test_with_a_broken_store_each_warning_reaches_stderr_exactly_once(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    env.update(RICECODER_STORE_PATH=str(blocker / "telemetry.db"), OTEL_METRIC_EXPORT_INTERVAL="600000")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "finished"
    lines = result.stderr.splitlines()
    assert lines.count(LINE) == 1, result.stderr
    # The store's own warnings: one per signal, although the warning about logs is itself
    # a log record that the broken store cannot take (no loop, no repeat).
    spans = [line for line in lines if "cannot store spans" in line]
    logs = [line for line in lines if "cannot store logs" in line]
    assert len(spans) == 1 and spans[0].startswith("ricecoder-otel: WARNING "), result.stderr
    assert len(logs) == 1, result.stderr
    assert "app warning" not in result.stderr  # the application's records are not ours to print
