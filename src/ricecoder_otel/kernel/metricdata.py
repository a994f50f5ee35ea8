"""One walk over a collection's resource -> scope -> metric tree.

Everything that reads collected metrics (the store writer, alert snapshots, the anomaly feed,
redaction, the test capture) walks the same three levels; this is the one place that does it.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.sdk.metrics.export import Metric, MetricsData
from opentelemetry.sdk.resources import Resource


def walk(data: MetricsData | None) -> Iterator[tuple[Resource, Metric]]:
    """Every metric of a collection with the resource it belongs to (nothing for ``None``)."""
    if data is None:
        return
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                yield resource_metrics.resource, metric
