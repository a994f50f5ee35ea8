"""Grafana JSON: stored provisioning files, the pinned Grafana version's schema models, and real Prometheus names."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as grafana_schema

from ricecoder_otel.cli import main
from ricecoder_otel.config import MonitoringConfig
from ricecoder_otel.dashboards.builtin import builtin_dashboards
from ricecoder_otel.dashboards.grafana import DATASOURCE, GRAFANA_VERSION, SCHEMA_VERSION, grafana_dashboard
from ricecoder_otel.pipeline import build_pipeline

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "collector-config" / "grafana" / "provisioning"


def test_the_shipped_provisioning_files_are_the_generated_dashboards(tmp_path: Path) -> None:
    assert main(["dashboard", "export", "--all", "--format", "grafana", "--out", str(tmp_path)]) == 0
    shipped = sorted(p.name for p in (GRAFANA / "dashboards" / "ricecoder").iterdir())
    assert shipped == sorted(f"{uid}.json" for uid in builtin_dashboards())
    for name in shipped:
        assert (GRAFANA / "dashboards" / "ricecoder" / name).read_text() == (tmp_path / name).read_text(), name
    provider = yaml.safe_load((GRAFANA / "dashboards" / "ricecoder.yaml").read_text())["providers"][0]
    compose = yaml.safe_load((ROOT / "collector-config" / "docker-compose.yaml").read_text())["services"]["grafana"]
    mount = next(v.split(":")[1] for v in compose["volumes"] if v.startswith("./grafana/provisioning"))
    assert provider["type"] == "file" and provider["options"]["path"] == f"{mount}/dashboards/ricecoder"
    assert compose["image"] == f"grafana/grafana:{GRAFANA_VERSION}"
    datasources = yaml.safe_load((GRAFANA / "datasources" / "datasources.yaml").read_text())["datasources"]
    assert {"type": "prometheus", "uid": DATASOURCE["uid"]} in [
        {"type": d["type"], "uid": d["uid"]} for d in datasources
    ]


def test_every_dashboard_fits_the_schema_of_the_pinned_grafana() -> None:
    # grafana-foundation-sdk 11.3.0 is generated from Grafana 11.3's dashboard schema; its default schemaVersion
    # is that Grafana's, and a key the schema does not know does not survive from_json/to_json.
    assert inspect.signature(grafana_schema.Dashboard.__init__).parameters["schema_version"].default == SCHEMA_VERSION
    for dashboard in builtin_dashboards().values():
        model = grafana_dashboard(dashboard)
        parsed = json.loads(json.dumps(grafana_schema.Dashboard.from_json(model), cls=JSONEncoder))
        assert set(model) <= set(parsed), set(model) - set(parsed)
        assert len(parsed["panels"]) == len(model["panels"])
        ids = [p["id"] for p in model["panels"]]
        assert len(set(ids)) == len(ids)
        for ours, theirs in zip(model["panels"], parsed["panels"], strict=True):
            assert set(ours) <= set(theirs) | {"transformations"}, set(ours) - set(theirs)
            grid = ours["gridPos"]
            assert grid["x"] + grid["w"] <= 24
            assert ours["type"] in {"timeseries", "stat", "gauge", "table", "heatmap", "text"}
            for target in ours.get("targets", []):
                assert target["datasource"] == DATASOURCE and target["expr"].count("(") == target["expr"].count(")")
        for variable in model["templating"]["list"]:
            assert re.fullmatch(r"label_values\(\w+, \w+\)", variable["query"]["query"])


def test_queries_use_the_names_prometheus_stores_for_our_metrics() -> None:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.trace import SpanKind
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    reader = PrometheusMetricReader()
    registry.register(reader._collector)  # this test's own registry, not the process-wide one
    pipeline = build_pipeline(MonitoringConfig(), set_global=False, span_exporters=[], log_exporters=[],
                              metric_readers=[reader], watch_config=False)  # fmt: skip
    try:
        tracer = pipeline.tracer_provider.get_tracer("t")
        for status in (200, 500):
            attributes = {"http.route": "/orders", "http.response.status_code": status}
            span = tracer.start_span("GET /orders", kind=SpanKind.SERVER, attributes=attributes)
            span.end()
        exposition = generate_latest(registry).decode()
    finally:
        pipeline.shutdown()
    exposed = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", exposition, re.MULTILINE))
    overview = grafana_dashboard(builtin_dashboards()["service-overview"])
    used = {name for p in overview["panels"] for t in p.get("targets", [])
            for name in re.findall(r"\b((?:http|ricecoder_http)\w+)\{", t["expr"])}  # fmt: skip
    assert used == {"http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket",
                    "ricecoder_http_server_errors_total"}  # fmt: skip
    assert used <= exposed
    assert re.search(r'http_server_request_duration_seconds_bucket\{[^}]*http_route="/orders"', exposition)


def test_grafana_json_is_printed_for_one_dashboard(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["dashboard", "export", "service-overview", "--format", "grafana"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["uid"] == "ricecoder-service-overview" and printed["schemaVersion"] == SCHEMA_VERSION
