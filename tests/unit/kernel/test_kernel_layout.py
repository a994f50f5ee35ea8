"""One of each: the kernel modules live in one package, one walk over collected metrics, one masker."""

from __future__ import annotations

import ast
import importlib.util
import itertools
from pathlib import Path

import pytest

import ricecoder_otel

SRC = Path(ricecoder_otel.__file__).parent
KERNEL_MODULES = ("export", "guard", "selftelemetry", "self_metrics", "defaults", "metricdata", "names")


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_kernel_modules_live_in_the_kernel_package_only(module: str) -> None:
    assert importlib.util.find_spec(f"ricecoder_otel.kernel.{module}") is not None
    assert importlib.util.find_spec(f"ricecoder_otel.{module}") is None


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(SRC.rglob("*.py"))]


def test_only_kernel_metricdata_walks_the_resource_scope_metric_tree() -> None:
    walkers = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.For | ast.comprehension)
                and isinstance(node.iter, ast.Attribute)
                and node.iter.attr in ("resource_metrics", "scope_metrics")
            ):
                walkers.append(f"{path.relative_to(SRC)}:{getattr(node, 'lineno', node.iter.lineno)}")
    assert walkers and all(w.startswith("kernel/metricdata.py:") for w in walkers), walkers


def test_one_secret_masker_and_nothing_else_defines_one() -> None:
    maskers = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("redact_dsn", "mask_location", "mask_dsn"):
                maskers.append(f"{path.relative_to(SRC)}:{node.name}")
    assert maskers == ["config/secrets.py:redact_dsn"]


def test_each_event_name_constant_is_defined_once() -> None:
    """Names of log-record events (``*_EVENT*`` constants and events' ``event_name``) have one definition."""
    definitions: dict[str, list[str]] = {}
    for path, tree in _sources():
        for node in ast.walk(tree):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            value = getattr(node, "value", None)
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                continue
            for target in targets:
                if isinstance(target, ast.Name) and ("EVENT" in target.id or target.id == "event_name"):
                    definitions.setdefault(value.value, []).append(f"{path.relative_to(SRC)}:{target.id}")
    assert "ricecoder.audit" in definitions and "ricecoder.alert" in definitions
    assert {name: where for name, where in definitions.items() if len(where) > 1} == {}


# Where a metric name in KNOWN_METRICS may still be spelled out, and why; everything else imports
# the kernel.names constant (one place for metric names, so a rename cannot drift between modules).
_INSTRUMENTATION_NAMES_SELECTED_BY = {
    # The system-metrics instrumentation names these; kernel.names lists their kind and unit only and has
    # no constants for them (they are not ricecoder's names). These modules select them as it spells them.
    "dashboards/builtin.py",  # the system dashboard's host and process panels
    "anomaly/feed.py",  # the process series the anomaly feed watches
    "config/model.py",  # ANOMALY_BUILTIN_SERIES
}
_LITERAL_ALLOWED = {
    # A span/log attribute key that happens to equal the metric's name; it names an attribute, not the metric.
    ("anomaly/otel.py", "ricecoder.anomaly.score"),
    ("kernel/events.py", "ricecoder.anomaly.score"),
}


def _docstrings(tree: ast.Module) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
        body = getattr(node, "body", None)
        if isinstance(body, list):  # attribute docstrings: a bare string right after an assignment
            for previous, statement in itertools.pairwise(body):
                if isinstance(previous, ast.Assign | ast.AnnAssign) and isinstance(statement, ast.Expr):
                    found.add(id(statement.value))
    return found


def test_metric_names_are_spelled_only_in_kernel_names() -> None:
    """A name from KNOWN_METRICS appears as a string literal only in kernel/names.py (docstrings aside)."""
    from ricecoder_otel.kernel.names import INSTRUMENTATION_METRICS, KNOWN_METRICS

    instrumentation = {m.name for m in INSTRUMENTATION_METRICS}
    spelled: set[tuple[str, str]] = set()
    for path, tree in _sources():
        module = str(path.relative_to(SRC))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in KNOWN_METRICS and id(node) not in docstrings:
                spelled.add((module, node.value))
    assert ("kernel/names.py", "ricecoder.anomaly.score") in spelled  # the walk does see literals
    unexpected = {
        (module, name)
        for module, name in spelled
        if module != "kernel/names.py"
        and (module, name) not in _LITERAL_ALLOWED
        and not (name in instrumentation and module in _INSTRUMENTATION_NAMES_SELECTED_BY)
    }
    assert unexpected == set()
    assert spelled >= _LITERAL_ALLOWED  # an entry nobody needs any more is removed
