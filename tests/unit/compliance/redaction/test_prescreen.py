"""The pre-screen (the gate, its required characters, the scan leads) is conservative: on any value
the redactor returns exactly what running every detector on the whole value returns.

Values come from each detector's own patterns (Hypothesis generates matching text, then it is
placed inside text drawn from digits, separators, keyword letters and punctuation, ASCII or
not) and from that mixed alphabet alone.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricecoder_otel.compliance.redaction.detectors import BUILTIN
from ricecoder_otel.compliance.redaction.engine import Redactor, Tally, build_policy
from ricecoder_otel.compliance.redaction.gate import build_gate, required_characters

POLICY = build_policy()
REFERENCE = Redactor(dataclasses.replace(POLICY, detectors=tuple(dataclasses.replace(d, anchors=())
                                                                   for d in POLICY.detectors)))  # fmt: skip
"""Every detector's patterns on every value, from its start: what the pre-screen must not change."""
PATTERNS = [(name, index) for name, detector in BUILTIN.items() for index in range(len(detector.patterns))]
ANCHORS = [anchor for detector in BUILTIN.values() for anchor in detector.anchors]

_MIXED = st.sampled_from(list("0123456789 .-:/@+()?&;=_#'\"abcdeiklmnoprstuxyzABEIKST\n\tüé٣"))
CONTEXT = st.text(_MIXED, max_size=24)


def _same_as_reference(text: str) -> None:
    gated = Redactor(POLICY)  # a fresh cache: the scan itself is under test
    tally, expected_tally = Tally(), Tally()
    assert gated.redact_text(text, tally) == REFERENCE.redact_text(text, expected_tally), text
    assert tally.counts == expected_tally.counts, text


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda item: f"{item[0]}-{item[1]}")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_generated_match_in_any_context_is_redacted_as_without_the_prescreen(
    pattern: tuple[str, int], data: st.DataObject
) -> None:
    name, index = pattern
    alphabet = st.characters(max_codepoint=127) if data.draw(st.booleans()) else st.characters()
    match = data.draw(st.from_regex(BUILTIN[name].patterns[index], fullmatch=True, alphabet=alphabet))
    before, after = data.draw(CONTEXT), data.draw(CONTEXT)
    variant = data.draw(st.sampled_from([str, str.upper, str.lower, str.swapcase]))
    _same_as_reference(variant(before + match + after))


@settings(max_examples=300, deadline=None)
@given(st.text(_MIXED, max_size=60))
def test_mixed_text_is_redacted_as_without_the_prescreen(text: str) -> None:
    _same_as_reference(text)


@pytest.mark.parametrize("anchor", [a for a in ANCHORS if required_characters(a)])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_match_of_an_anchor_holds_one_of_its_required_characters(anchor: str, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(re.compile(anchor), fullmatch=True))
    assert any(char in text for char in required_characters(anchor)), (anchor, text)


def test_required_characters_are_read_only_from_a_plain_last_token() -> None:
    assert required_characters("token[\"']?\\s{0,3}[=:]") == "=:"
    assert required_characters("npm_") == "_"
    for anchor in ("a|b[=:]", "ab[=:]?", "[ab[=:]", r"\[=:]", "sk-", "x[a-z]", "(?:a[=:])"):
        assert required_characters(anchor) == "", anchor


def test_keyword_anchors_sharing_a_required_character_are_searched_only_when_it_is_present() -> None:
    gate = build_gate(ANCHORS)
    assert gate is not None and "=:" in gate.requires
    assignments = gate.requires.index("=:")
    assert gate.matching("password is hunter2", True) >> assignments & 1 == 0
    assert gate.matching("password: hunter2", True) >> assignments & 1 == 1
