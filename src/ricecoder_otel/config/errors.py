"""Configuration problems, collected all at once so a user fixes a file in one pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ProblemKind = Literal["unreadable", "syntax", "invalid"]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: where it is (dotted path, file position or variable) and what was expected.

    ``path`` is the config path (``alerting.rules[3].for``), empty for the whole document.
    ``source`` says where the value came from: ``file.yaml:12`` or a ``RICECODER_*`` variable.
    ``kind`` is ``unreadable`` (the file cannot be read), ``syntax`` (not YAML, or not a
    mapping) or ``invalid`` (a value or key the model rejects).
    """

    path: str
    message: str
    source: str | None = None
    kind: ProblemKind = "invalid"

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.source, self.path) if part)
        return f"{where}: {self.message}" if where else self.message


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        count = len(self.problems)
        header = f"invalid configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))

    @property
    def unreadable(self) -> bool:
        """True when a file could not be read at all (missing, a directory, no permission)."""
        return any(p.kind == "unreadable" for p in self.problems)
