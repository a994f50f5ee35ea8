"""``collector validate`` with a collector binary that cannot run says so instead of a traceback."""

from __future__ import annotations

from pathlib import Path

from ricecoder_otel.collector.validate import validate


def test_a_binary_that_cannot_be_executed_is_a_clear_problem(tmp_path: Path) -> None:
    binary = tmp_path / "otelcol"
    binary.write_text("not an executable")
    binary.chmod(0o644)
    config = tmp_path / "agent.yaml"
    config.write_text("receivers: {}\n")
    problem = validate(binary, config)
    assert problem is not None
    assert str(problem).startswith(f"{config}: could not run the collector {binary}: ")
    assert "Permission denied" in str(problem)
