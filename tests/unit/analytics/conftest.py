"""Analytics tests write to a store of their own, never the user's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RICECODER_STORE_PATH", str(tmp_path / "telemetry.db"))
