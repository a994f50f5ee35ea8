"""The pprof encoder on its own: what ``go tool pprof`` reads back from edge-case profiles."""

from __future__ import annotations

import gzip
from pathlib import Path

from ricecoder_otel.performance.pprof import pprof
from tests.unit.performance.test_cli import go_pprof


def write(tmp_path: Path, stacks: list[tuple[list[str], int]], **options: object) -> str:
    path = tmp_path / "profile.pb.gz"
    path.write_bytes(pprof(stacks, rate_hz=100, **options))  # type: ignore[arg-type]
    return str(path)


def test_shared_frames_are_one_location_and_odd_labels_survive(tmp_path: Path) -> None:
    stacks = [
        (["app/main.py:main", "app/views.py:Orders.get", "db/driver.py:execute"], 7),
        (["app/main.py:main", "app/views.py:Orders.get"], 3),
        (["<frozen runpy>:_run_module_as_main", "naïve"], 2),  # no ':' in a frame; non-ASCII names
        (["app/main.py:main"], 0),  # nothing sampled: left out
    ]
    path = write(tmp_path, stacks, trace_id="0" * 31 + "1", duration_s=0.12)
    raw = go_pprof("-raw", path)
    locations = raw.split("Locations\n", 1)[1].split("Mappings\n", 1)[0].strip().splitlines()
    assert len(locations) == 5  # main, Orders.get, execute, _run_module_as_main, naïve: each once
    assert any(" Orders.get app/views.py:" in line for line in locations)
    assert any(" naïve " in line for line in locations)
    assert raw.count("trace_id:[00000000000000000000000000000001]") == 3
    top = go_pprof("-top", "-sample_index=wall", path)
    assert "Duration: 120ms, Total samples = 120ms" in top  # 12 samples at 100/s in a 120 ms request


def test_an_empty_profile_is_still_a_valid_file(tmp_path: Path) -> None:
    data = pprof([], rate_hz=0)
    assert gzip.decompress(data).startswith(b"\x0a")  # a sample type first (field 1, length-delimited)
    (tmp_path / "empty.pb.gz").write_bytes(data)
    raw = go_pprof("-raw", str(tmp_path / "empty.pb.gz"))
    assert "Period: 10000000" in raw and "samples/count wall/nanoseconds" in raw
