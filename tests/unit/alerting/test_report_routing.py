"""Analytics reports take the routes an alert with their labels would take, but only routes that
select on ``kind`` deliver them: the root and catch-all alert routes never get a report."""

from __future__ import annotations

from typing import Any

from ricecoder_otel.alerting.notify.reports import report_alert, report_messages, report_routes
from ricecoder_otel.alerting.notify.router import build_route
from ricecoder_otel.config.model import RouteConfig
from ricecoder_otel.kernel.events import AnalyticsReportGenerated

EVENT = AnalyticsReportGenerated(at=1_800_000_000.0, schedule="weekly", kind="usage", format="csv", rows=12,
                                 path="/srv/reports/weekly-usage.csv")  # fmt: skip
CHANNELS = {"pager": object(), "reports": object(), "weekly": object(), "audit": object()}


def tree(routes: list[dict[str, Any]], receiver: str | None = "pager") -> Any:
    return build_route(RouteConfig.model_validate({"receiver": receiver, "routes": routes}), list(CHANNELS))


def receivers(config: Any) -> list[str]:
    return [m.channel for m in report_messages(config, report_alert(EVENT), CHANNELS, 1.0)]


def test_a_report_is_labelled_and_carries_its_text_and_file() -> None:
    alert = report_alert(EVENT)
    assert alert.labels == {"alertname": "AnalyticsReport", "kind": "analytics_report", "schedule": "weekly",
                            "report": "usage"}  # fmt: skip
    assert alert.annotations == {"summary": "analytics usage report (weekly): 12 rows, written to "
                                 "/srv/reports/weekly-usage.csv", "path": "/srv/reports/weekly-usage.csv"}  # fmt: skip
    assert alert.status == "firing" and alert.starts_at == EVENT.at


def test_no_route_for_reports_means_nobody_is_told() -> None:
    assert receivers(tree([])) == []  # the root receiver is for alerts
    assert receivers(tree([], receiver=None)) == []  # nor every channel of a receiver-less root
    assert receivers(tree([{"matchers": ['severity="critical"'], "receiver": "audit"}])) == []
    assert receivers(tree([{"receiver": "audit"}])) == []  # a catch-all child does not opt in


def test_routes_that_select_on_kind_receive_reports_with_alertmanager_order_and_continue() -> None:
    reports = {"matchers": ['kind="analytics_report"'], "receiver": "reports"}
    assert receivers(tree([reports])) == ["reports"]
    # The first matching child wins: an earlier alert catch-all takes the report and does not deliver it.
    assert receivers(tree([{"receiver": "audit"}, reports])) == []
    assert receivers(tree([{"receiver": "audit", "continue": True}, reports])) == ["reports"]
    nested = {**reports, "routes": [{"matchers": ['schedule="weekly"'], "receiver": "weekly", "continue": True}]}
    assert receivers(tree([nested])) == ["weekly"]  # a matching child takes it from its parent
    both = {**reports, "routes": [{"matchers": ['schedule="weekly"'], "receiver": "weekly", "continue": True},
                                  {"matchers": ['report=~"usage|funnel"'], "receiver": "audit"}]}  # fmt: skip
    assert receivers(tree([both])) == ["weekly", "audit"]
    other = {**reports, "routes": [{"matchers": ['schedule="daily"'], "receiver": "weekly"}]}
    assert receivers(tree([other])) == ["reports"]  # no child matches: the opted-in route itself


def test_a_channel_named_by_two_routes_gets_one_message_and_the_group_key_is_the_routes() -> None:
    config = tree([{"matchers": ['kind="analytics_report"'], "receiver": "reports", "continue": True},
                   {"matchers": ['kind=~"analytics_.*"'], "receiver": "reports"}])  # fmt: skip
    [message] = report_messages(config, report_alert(EVENT), CHANNELS, 5.0)
    assert message.channel == "reports"
    assert message.notification.group_key == '{}/{kind="analytics_report"}:{alertname="AnalyticsReport"}'
    assert message.notification.note.startswith("analytics usage report (weekly)")
    assert [r.receiver_name for r in report_routes(config, report_alert(EVENT).labels)] == ["reports", "reports"]
