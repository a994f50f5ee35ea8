"""``ricecoder-otel demo``: the main job, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_json_summary(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RICECODER_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ricecoder_otel.cli",
            "demo",
            "--duration",
            "3",
            "--json",
            "--store",
            str(tmp_path / "demo.db"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert {"spans", "metric_series", "logs", "store"} <= set(summary)
    assert summary["store"] == str(tmp_path / "demo.db")
    assert summary["spans"] >= summary["requests_sent"] > 0
    assert summary["metric_series"] > 10 and summary["logs"] > 0
    assert isinstance(summary["anomaly_events"], int)
    assert summary["prometheus_series_at_end"] > 0
    assert "driving traffic" in result.stderr  # progress goes to stderr
