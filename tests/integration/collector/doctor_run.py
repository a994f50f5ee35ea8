"""Run ``ricecoder-otel doctor --json`` in a subprocess with a controlled environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def run_doctor(
    *args: str, env: Mapping[str, str] | None = None, home: Path | None = None
) -> tuple[int, dict[str, Any]]:
    """Exit code and JSON report; every inherited OTEL_*, RICECODER_* and GATEWAY_/AGENT_ variable is dropped."""
    dropped = ("OTEL_", "RICECODER_", "GATEWAY_", "AGENT_")
    full = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    if home is not None:  # the per-user store default lives under XDG_DATA_HOME
        full["XDG_DATA_HOME"] = str(home)
    full.update(env or {})
    full["PYTHONPATH"] = str(REPO / "src")
    result = subprocess.run(
        [sys.executable, "-m", "ricecoder_otel.cli", "doctor", "--json", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report
