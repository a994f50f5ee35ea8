"""A rule file edited live: an invalid edit is rejected with its located problems and the running rules
keep evaluating (a firing alert still resolves); a valid edit swaps the rules in."""

from __future__ import annotations

import os
from pathlib import Path

from ricecoder_otel.alerting.capability import AlertingCapability
from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.watcher import ConfigWatcher
from ricecoder_otel.testing import RicecoderCapture

RULE = "    - {name: queue-high, metric: queue.level, threshold: 0.5}\n"
HEAD = "alerting:\n  evaluation_interval: 1h\n  rules:\n"
_mtime = [1_700_000_000_000_000_000]


def rewrite(path: Path, text: str) -> None:
    """Replace the file as editors do, with a new mtime."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    _mtime[0] += 1_000_000_000
    os.utime(tmp, ns=(_mtime[0], _mtime[0]))
    os.replace(tmp, path)


def test_an_invalid_live_edit_is_rejected_and_the_old_rules_keep_firing_and_resolving(tmp_path: Path) -> None:
    path = tmp_path / "ricecoder.yaml"
    rewrite(path, HEAD + RULE)
    capture = RicecoderCapture(load_config(path))
    errors: list[ConfigError] = []

    def rejected(error: ConfigError) -> None:
        errors.append(error)
        capture.pipeline.reject(error)

    watcher = ConfigWatcher(path, capture.pipeline.apply, rejected, env={})
    try:
        alerting = capture.pipeline.capability("alerting")
        assert isinstance(alerting, AlertingCapability) and alerting.engine is not None
        level = capture.pipeline.meter_provider.get_meter("app").create_gauge("queue.level")
        level.set(1.0, {"queue": "mail"})
        assert alerting.evaluate_now() == 1
        assert alerting.engine.firing() == [("queue-high", "queue.level{queue=mail}")]

        # Edited into an invalid state: a threshold that is not a number, then a duplicate rule name.
        rewrite(path, HEAD + RULE + "    - {name: queue-other, metric: queue.level, threshold: lots}\n")
        assert watcher.check() is False
        rewrite(path, HEAD + RULE + RULE)
        assert watcher.check() is False
        first, second = errors
        assert [(p.path, p.source) for p in first.problems] == [("alerting.rules[1].threshold", f"{path}:5")]
        assert [p.path for p in second.problems] == ["alerting.rules"]
        assert "duplicate rule name 'queue-high'" in second.problems[0].message
        assert [r.name for r in alerting.engine.rules] == ["queue-high"]
        level.set(0.0, {"queue": "mail"})
        assert alerting.evaluate_now() == 1  # the running rule resolves its alert: nothing is lost
        assert alerting.engine.firing() == []
        rejections = [e for e in capture.events("ricecoder.config.changed")
                      if (e.log_record.attributes or {}).get("ricecoder.config.accepted") is False]  # fmt: skip
        assert len(rejections) == 2

        # A valid edit swaps in: the new rule evaluates at once.
        rewrite(path, HEAD + RULE + "    - {name: queue-low, metric: queue.level, operator: '<', threshold: 0.5}\n")
        assert watcher.check() is True
        assert [r.name for r in alerting.engine.rules] == ["queue-high", "queue-low"]
        assert alerting.evaluate_now() == 1
        assert alerting.engine.firing() == [("queue-low", "queue.level{queue=mail}")]
    finally:
        capture.close()
