"""Read a rule file and list every problem with its path and line.

A rule file is either a configuration file (``alerting: {rules: [...]}``) or a bare rule list
under ``rules:``. Errors come from the config model (one per problem, located like the config
loader's); a rule on a metric the distribution does not record is a warning: custom metrics
are fine in-process, but nothing can check their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ricecoder_otel.alerting.promexport import KNOWN_METRICS
from ricecoder_otel.config import AlertRule, ConfigError
from ricecoder_otel.config.validation import validate
from ricecoder_otel.config.yaml_source import read_yaml


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    path: str
    message: str
    source: str | None

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.path) if p)
        return f"{self.level}: {where}: {self.message}"


@dataclass(frozen=True)
class RuleFile:
    rules: list[AlertRule]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)


def read_rules(path: Path) -> RuleFile:
    """The valid rules of ``path`` and every finding (errors and warnings)."""
    doc = read_yaml(path)
    findings = [Finding("error", p.path, p.message, p.source) for p in doc.problems]
    if findings:
        return RuleFile([], findings)
    bare = "alerting" not in doc.data
    prefix: tuple[str | int, ...] = () if bare else ("alerting",)
    rules_data: Any = doc.data.get("rules", []) if bare else (doc.data.get("alerting") or {}).get("rules", [])
    if bare and set(doc.data) - {"rules"}:
        extra = sorted(set(doc.data) - {"rules"})
        findings.append(Finding("error", extra[0], "unknown key; a rule file has `rules:` or `alerting: {rules:}`",
                                f"{path}:{doc.lines.get((extra[0],), 1)}"))  # fmt: skip

    def source_of(loc: tuple[str | int, ...]) -> tuple[str | None, bool]:
        inner = (*prefix, *loc[1:]) if loc[:1] == ("alerting",) else loc
        for end in range(len(inner), 0, -1):
            line = doc.lines.get(inner[:end])
            if line is not None:
                return f"{path}:{line}", False
        return str(path), False

    findings += _duplicates(rules_data, source_of)
    rules: list[AlertRule] = []
    try:
        rules = list(validate({"alerting": {"rules": rules_data}}, source_of).alerting.rules)
    except ConfigError as error:
        findings += [Finding("error", p.path, p.message, p.source) for p in error.problems
                     if "duplicate rule name" not in p.message]  # fmt: skip
    for index, rule in enumerate(rules):
        for key in ("metric", "total_metric"):
            name = getattr(rule, key)
            if name and name not in KNOWN_METRICS and rule.kind != "anomaly":
                where, _ = source_of(("alerting", "rules", index, key))
                findings.append(Finding("warning", f"alerting.rules[{index}].{key}",
                                        f"unknown metric '{name}' (not recorded by ricecoder-otel; fine if the "
                                        "application records it)", where))  # fmt: skip
    return RuleFile(rules, findings)


def _duplicates(rules_data: Any, source_of: Any) -> list[Finding]:
    """Duplicate names, found even when other rules are invalid (the model checks them only after)."""
    seen: set[str] = set()
    found: list[Finding] = []
    for index, item in enumerate(rules_data if isinstance(rules_data, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name in seen:
            where, _ = source_of(("alerting", "rules", index, "name"))
            found.append(Finding("error", f"alerting.rules[{index}].name", f"duplicate rule name '{name}'", where))
        elif isinstance(name, str):
            seen.add(name)
    return found
