"""``perf report`` and ``perf profile`` over a real SQLite store fed by the pipeline's own log records."""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ricecoder_otel.cli import main
from ricecoder_otel.performance.capability import PerformanceCapability
from ricecoder_otel.store import open_store
from ricecoder_otel.store.exporters import LocalLogExporter
from ricecoder_otel.store.records import RetentionPolicy
from ricecoder_otel.testing import RicecoderCapture
from tests.unit.performance.test_profiler import PROFILING, serve, slow_query
from tests.unit.performance.traces import db, http, request

HOUR_NS = 3600 * 10**9


def store_records(capture: RicecoderCapture, path: Path) -> None:
    keep_all = RetentionPolicy(max_age_ns=None, max_bytes=None)  # the capture's clock is in 2023
    with open_store(str(path), retention=keep_all) as store:
        LocalLogExporter(store=store).export([r for r in capture.logs() if r.log_record.event_name])


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_report_merges_stored_summaries_and_names_what_grew(
    ricecoder_capture: RicecoderCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    for _ in range(6):  # an early slot: 100 ms, 20 of them in the database
        request("/orders", 100, [db(10, 30), http(30, 40)])
    capability.process_now()
    ricecoder_capture.advance(1800)
    for _ in range(6):  # half an hour later: 400 ms, the database took 320
        request("/orders", 400, [db(10, 330), http(330, 340)])
    capability.process_now()
    ricecoder_capture.advance(30)
    capability.process_now()
    path = tmp_path / "telemetry.db"
    store_records(ricecoder_capture, path)
    now_ns = lambda: int((ricecoder_capture.clock() + 1) * 1e9)  # noqa: E731

    from ricecoder_otel.cli import perf

    code = perf.run_report(perf_args(path, json_out=True, since=HOUR_NS), now_ns)
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["skipped"] == 0, out
    [orders] = [o for o in out["operations"] if o["operation"] == "GET /orders"]
    assert orders["count"] == 12 and orders["max"] == pytest.approx(0.4)
    assert orders["bottleneck"] == "database"
    assert orders["grew"]["category"] == "database"
    assert orders["grew"]["baseline_mean_s"] == pytest.approx(0.1)
    assert orders["grew"]["recent_mean_s"] == pytest.approx(0.4)
    assert orders["p50"] == pytest.approx(0.1, rel=orders["relative_error"])  # rank 6 of 12
    assert orders["p99"] == pytest.approx(0.4, rel=orders["relative_error"])
    assert {o["kind"] for o in out["operations"]} == {"server", "database", "client"}

    code = perf.run_report(perf_args(path, json_out=False, since=HOUR_NS, route="/orders"), now_ns)
    table = capsys.readouterr().out
    assert code == 0 and "GET /orders" in table and "database (+" in table and "sqlite" not in table


def perf_args(path: Path, *, json_out: bool, since: int, route: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(store=str(path), json=json_out, since=since, route=route)


@pytest.mark.ricecoder_config(PROFILING)
def test_profile_exports_collapsed_speedscope_and_a_flame_graph(
    ricecoder_capture: RicecoderCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id, _ = serve("/reports/sales", [slow_query])
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    capability.process_now()
    path = tmp_path / "telemetry.db"
    store_records(ricecoder_capture, path)
    store = ["--store", str(path)]

    code, collapsed, _ = run(["perf", "profile", trace_id, *store], capsys)
    assert code == 0 and collapsed.splitlines()[0].split(" ")[0].endswith("test_profiler.py:slow_query")

    code, out, _ = run(["perf", "profile", trace_id, "--format", "speedscope", "--json", *store], capsys)
    document = json.loads(out)
    assert code == 0 and document["hottest"][0]["frame"].endswith(":slow_query")
    speedscope = document["profile"]
    assert speedscope["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    [profile] = speedscope["profiles"]
    frames = speedscope["shared"]["frames"]
    assert profile["type"] == "sampled" and len(profile["samples"]) == len(profile["weights"])
    assert all(0 <= i < len(frames) for sample in profile["samples"] for i in sample)

    svg_path = tmp_path / "flame.svg"
    code, out, _ = run(["perf", "profile", trace_id, "--format", "svg", "-o", str(svg_path), *store], capsys)
    assert code == 0 and "wrote svg profile" in out
    root = ET.fromstring(svg_path.read_text())
    rects = root.findall(".//{http://www.w3.org/2000/svg}rect")
    widest_leafish = max((r for r in rects if r.get("data-frame", "").endswith(":slow_query")),
                         key=lambda r: float(r.get("width", 0)))  # fmt: skip
    assert float(widest_leafish.get("width", 0)) > 0.8 * 1200  # the sleep fills most of the graph


def test_profile_and_report_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "telemetry.db"
    with open_store(str(path)) as empty:
        empty.counts()  # creates the schema
    code, _, err = run(["perf", "profile", "nothex", "--store", str(path)], capsys)
    assert code == 2 and "32 hex digits" in err
    code, _, err = run(["perf", "profile", "a" * 32, "--store", str(path)], capsys)
    assert code == 1 and "no profile stored for trace" in err
    code, out, _ = run(["perf", "report", "--store", str(path)], capsys)
    assert code == 0 and "no latency summaries" in out
    code, _, err = run(["perf", "report", "--store", str(tmp_path / "missing.db")], capsys)
    assert code == 1 and err.startswith("ricecoder-otel perf:")
    with pytest.raises(SystemExit) as usage:
        main(["perf", "report", "--since", "soon"])
    assert usage.value.code == 2


def go_binary() -> str:
    """The Go toolchain, whose ``go tool pprof`` reads our pprof files (the machine image ships Go)."""
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if found is None:
        pytest.fail("the Go toolchain is required to check pprof output with `go tool pprof`; see .ci/steps/pprof.sh")
    return found


def go_pprof(*argv: str) -> str:
    """``go tool pprof ARGV``: its standard output (the first call may build pprof from Go's sources)."""
    result = subprocess.run([go_binary(), "tool", "pprof", *argv], capture_output=True, text=True, timeout=600,
                            check=False, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.ricecoder_config(PROFILING)
def test_profile_exports_pprof_that_go_tool_pprof_reads(
    ricecoder_capture: RicecoderCapture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id, _ = serve("/reports/sales", [slow_query])
    capability = ricecoder_capture.pipeline.capability("performance")
    assert isinstance(capability, PerformanceCapability)
    capability.process_now()
    path = tmp_path / "telemetry.db"
    store_records(ricecoder_capture, path)
    store = ["--store", str(path)]
    code, collapsed, _ = run(["perf", "profile", trace_id, *store], capsys)
    assert code == 0
    expected = {stack: int(n) for stack, _, n in (line.rpartition(" ") for line in collapsed.splitlines())}

    output = tmp_path / "sales.pb.gz"
    code, out, _ = run(["perf", "profile", trace_id, "--format", "pprof", "-o", str(output), *store], capsys)
    assert code == 0 and "wrote pprof profile" in out
    assert gzip.decompress(output.read_bytes())  # gzip-compressed, as pprof files are

    raw = go_pprof("-raw", str(output))
    assert "PeriodType: wall nanoseconds" in raw and "Period: 5000000" in raw  # 200 samples/s
    assert f"GET /reports/sales {trace_id}" in raw  # the comment names the request
    samples = raw.split("Samples:\n", 1)[1].split("Locations\n", 1)[0]
    assert samples.splitlines()[0].split() == ["samples/count", "wall/nanoseconds[dflt]"]
    counts = [int(m[1]) for m in re.finditer(r"^\s*(\d+)\s+\d+:", samples, re.MULTILINE)]
    assert sorted(counts) == sorted(expected.values())  # one pprof sample per collapsed stack, same counts
    assert raw.count(f"trace_id:[{trace_id}]") == len(expected)

    top = go_pprof("-top", "-sample_index=samples", str(output)).splitlines()
    hottest = top[next(i for i, line in enumerate(top) if "flat%" in line) + 1].split()
    assert hottest[-1] == "slow_query", top  # the hottest frame is the injected sleep, as in the collapsed form
    assert int(hottest[0]) == sum(n for s, n in expected.items() if s.endswith(":slow_query"))
    assert int(hottest[0]) >= 0.8 * sum(counts)

    code, out, _ = run(["perf", "profile", trace_id, "--format", "pprof", "--json", *store], capsys)
    document = json.loads(out)
    assert code == 0 and base64.b64decode(document["profile"]) == output.read_bytes()
