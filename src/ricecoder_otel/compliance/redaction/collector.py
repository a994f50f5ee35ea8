"""The collector agent's ``redaction`` processor block, generated from the built-in detectors.

The agent masks what reaches it from services that do not run ricecoder-otel (and is a second
line behind the in-process policy). Its patterns are the RE2 forms in
``detectors.COLLECTOR``; its safe keys are the exact keys of ``DEFAULT_SAFE_KEYS``. The shipped
``collector-config/agent.yaml`` is checked against :func:`redaction_block` by a test, so the
two cannot drift. Print the block with ``python -m ricecoder_otel.compliance.redaction.collector``.
"""

from __future__ import annotations

from typing import Any

from ricecoder_otel.compliance.redaction.detectors import (
    COLLECTOR,
    COLLECTOR_KEY_PATTERN,
    DEFAULT_SAFE_KEYS,
)


def redaction_block() -> dict[str, Any]:
    """The processor's configuration as the agent's YAML parses to."""
    return {
        "allow_all_keys": True,
        "ignored_keys": [key for key in DEFAULT_SAFE_KEYS if not key.endswith("*")],
        "blocked_key_patterns": [COLLECTOR_KEY_PATTERN],
        "blocked_values": [pattern for pattern in COLLECTOR.values() if pattern is not None],
        "summary": "info",
    }


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render(indent: str = "  ") -> str:
    """The block as YAML lines for agent.yaml's ``processors:`` map (one detector name per value)."""
    block = redaction_block()
    lines = [f"{indent}redaction:", f"{indent}  allow_all_keys: true"]
    lines.append(f"{indent}  ignored_keys: [{', '.join(block['ignored_keys'])}]")
    lines.append(f"{indent}  blocked_key_patterns:")
    lines += [f"{indent}    - {_quoted(pattern)}" for pattern in block["blocked_key_patterns"]]
    lines.append(f"{indent}  blocked_values:")
    for name, pattern in COLLECTOR.items():
        if pattern is None:
            lines.append(f"{indent}    # {name}: in-process only (needs its validator)")
        else:
            lines.append(f"{indent}    - {_quoted(pattern)}  # {name}")
    lines.append(f"{indent}  summary: info")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
