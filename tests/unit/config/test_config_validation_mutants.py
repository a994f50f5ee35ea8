"""Config problem messages that mutation testing found unchecked: rarer pydantic error kinds,
the shortening of long values, secrets recognised by their type, and did-you-mean suggestions
for nested keys and for keys inside a variable's JSON list."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from ricecoder_otel.config import ConfigError, load_config
from ricecoder_otel.config.validation import to_problem


def problems(
    tmp_path: Path | None = None, yaml_text: str | None = None, env: dict[str, str] | None = None
) -> list[str]:
    path = None
    if tmp_path is not None and yaml_text is not None:
        path = tmp_path / "ricecoder.yaml"
        path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return [str(p) for p in info.value.problems]


class _Even(BaseModel):
    every: int

    @field_validator("every")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("must be an even number")
        return value


def test_a_value_error_says_the_validators_own_words_and_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        _Even.model_validate({"every": 3})
    (err,) = info.value.errors()
    assert err["type"] == "value_error"
    problem = to_problem(err, lambda loc: ("ricecoder.yaml:4", False))
    # Not pydantic's "Value error, must be ..." prefix.
    assert str(problem) == "ricecoder.yaml:4: every: must be an even number (got 3)"


def test_a_mapping_where_a_number_belongs_says_so_without_echoing_it(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "metrics:\n  cardinality_limit: {a: 1}\n")
    assert found.endswith("metrics.cardinality_limit: expected an integer (got a mapping)")


def test_a_value_that_is_neither_text_nor_a_number_is_not_echoed(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "metrics:\n  cardinality_limit: null\n")
    assert found.endswith("metrics.cardinality_limit: expected an integer")


def test_text_up_to_60_characters_is_shown_whole() -> None:
    text = "x" * 59 + "y"
    (found,) = problems(env={"RICECODER_METRICS__CARDINALITY_LIMIT": text})
    assert found.endswith(f"expected an integer (got '{text}')")


def test_longer_text_is_cut_to_57_characters_and_an_ellipsis() -> None:
    text = "a" * 56 + "bcdef"  # 61 characters
    (found,) = problems(env={"RICECODER_METRICS__CARDINALITY_LIMIT": text})
    assert found.endswith("expected an integer (got '" + "a" * 56 + "b'...)")


def test_a_secret_field_with_a_plain_name_is_never_echoed(tmp_path: Path) -> None:
    """`pseudonym_key` and a channel's `url` are secrets by type, not by their names."""
    found = problems(
        tmp_path,
        "analytics:\n"
        "  pseudonym_key: 98765432109876543210\n"
        "alerting:\n"
        "  channels:\n"
        "    - {type: slack, name: team, url: 1234567890123}\n"
        "    - {type: pagerduty, name: oncall, routing_key: 5550001112223334}\n",
    )
    path = tmp_path / "ricecoder.yaml"
    assert sorted(found) == sorted(
        [
            f"{path}:2: analytics.pseudonym_key: expected a string",
            f"{path}:5: alerting.channels[0].slack.url: expected a string",
            f"{path}:6: alerting.channels[1].pagerduty.routing_key: expected a string",
        ]
    )
    for secret in ("98765432109876543210", "1234567890123", "5550001112223334"):
        assert secret not in " ".join(found)


def test_a_nested_key_from_a_variable_suggests_the_whole_variable() -> None:
    (found,) = problems(env={"RICECODER_ALERTING__ROUTE__GROUP_WAITT": "5s"})
    assert found == (
        "RICECODER_ALERTING__ROUTE__GROUP_WAITT: alerting.route.group_waitt: unknown key "
        "(did you mean RICECODER_ALERTING__ROUTE__GROUP_WAIT?)"
    )


def test_a_key_inside_a_variables_json_list_suggests_the_key_as_written() -> None:
    """List entries have no variable of their own, and `for` is the key (`for_` the field)."""
    (found,) = problems(
        env={"RICECODER_ALERTING__RULES": '[{"name": "x", "metric": "m", "threshold": 1, "fro": "1m"}]'}
    )
    assert found == "RICECODER_ALERTING__RULES: alerting.rules[0].fro: unknown key (did you mean 'for'?)"


def test_an_unknown_key_in_a_channel_lists_that_channels_keys(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "alerting:\n"
        "  channels:\n"
        "    - {type: slack, name: team, url: 'https://hooks.example/x', zzz: 1}\n"
        "    - {type: pagerduty, name: oncall, routing_key: k, urll: 'https://x'}\n",
    )
    path = tmp_path / "ricecoder.yaml"
    assert sorted(found) == sorted(
        [
            f"{path}:3: alerting.channels[0].slack.zzz: unknown key; expected one of: name, send_resolved, timeout, "
            "type, url",
            f"{path}:4: alerting.channels[1].pagerduty.urll: unknown key (did you mean 'url'?)",
        ]
    )
