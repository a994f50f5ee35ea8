"""One of each: the kernel modules live in one package, one walk over collected metrics, one masker."""

from __future__ import annotations

import ast
import importlib.util
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
