"""Building the package prints no deprecation warnings and the wheel carries its data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_wheel_builds_cleanly_with_its_data_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if "Warning" in line and "byte-compiling" not in line]
    assert not any("deprecat" in line.lower() for line in warnings), warnings
    [wheel] = tmp_path.glob("ricecoder_otel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ricecoder_otel/py.typed" in names
    assert "ricecoder_otel/store/migrations/sqlite/0002_event_names.sql" in names
    assert "ricecoder_otel/store/migrations/postgres/0002_event_names.sql" in names
    # the hot engines ship compiled (setup.py, mypyc) next to the sources they were compiled from,
    # with the runtime library they share
    for module in ("anomaly/detector", *(f"performance/{name}" for name in ("worker", "engine", "histogram",
                                                                             "bottleneck", "spans"))):  # fmt: skip
        assert f"ricecoder_otel/{module}.py" in names
        assert any(name.startswith(f"ricecoder_otel/{module}.") and name.endswith(".so") for name in names), module
    assert any(name.startswith("ricecoder_otel_compiled__mypyc.") for name in names), names
