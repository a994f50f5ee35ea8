"""The gate only skips work: every value a detector pattern matches gets past it, so results never change."""

from __future__ import annotations

import dataclasses
import ipaddress
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.redaction.corpus import SPLITS, corpus
from ricecoder_otel.compliance.redaction.detectors import BUILTIN, Detector
from ricecoder_otel.compliance.redaction.engine import Redactor, Tally, build_policy
from ricecoder_otel.compliance.redaction.gate import Gate, build_gate
from ricecoder_otel.compliance.redaction.validators import ipv4_ok

DETECTORS = list(BUILTIN.values())
GATES = {detector.name: build_gate(detector.anchors) for detector in DETECTORS}
EVERYTHING = build_gate(anchor for detector in DETECTORS for anchor in detector.anchors)


def _admits(gate: Gate | None, text: str) -> bool:
    assert gate is not None
    return gate.matches(text.lower(), True) if text.isascii() else gate.matches(text, False)


def _matched(detector: Detector, text: str) -> bool:
    return any(pattern.search(text) is not None for pattern in detector.patterns)


def _corpus_strings() -> list[str]:
    values: list[str] = []
    for split in SPLITS:
        positives, cleans = corpus(split)
        values += [sample.value for sample in (*positives, *cleans) if isinstance(sample.value, str)]
    return values


CORPUS = _corpus_strings()


def test_every_builtin_detector_has_anchors_and_they_compile() -> None:
    for detector in DETECTORS:
        assert detector.anchors, detector.name
        for anchor in detector.anchors:
            re.compile(anchor)


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_the_gate_admits_every_corpus_value_the_detector_matches(detector: Detector) -> None:
    for text in CORPUS:
        for variant in (text, text.upper(), text.swapcase()):
            if _matched(detector, variant):
                assert _admits(GATES[detector.name], variant), (detector.name, variant)
                assert _admits(EVERYTHING, variant), (detector.name, variant)


@pytest.mark.parametrize(
    "pattern",
    [(detector.name, index) for detector in DETECTORS for index in range(len(detector.patterns))],
    ids=lambda item: f"{item[0]}-{item[1]}",
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_gate_admits_any_text_a_pattern_matches(pattern: tuple[str, int], data: st.DataObject) -> None:
    """Generated from the patterns themselves: Unicode digits, mixed case, non-ASCII and ASCII-only text."""
    name, index = pattern
    compiled = BUILTIN[name].patterns[index]
    ascii_only = data.draw(st.booleans())
    alphabet = st.characters(max_codepoint=127) if ascii_only else st.characters()
    text = data.draw(st.from_regex(compiled, alphabet=alphabet))
    assert compiled.search(text)
    assert _admits(GATES[name], text), text
    assert _admits(EVERYTHING, text), text


def _lead_holds(detector: Detector, text: str) -> bool:
    """No pattern match starts more than the detector's ``lead`` before its leftmost anchor match
    (the first match a search finds is the leftmost one, so scanning from there loses nothing)."""
    gate = GATES[detector.name]
    assert gate is not None and detector.lead is not None
    first = gate.first(text.lower(), True) if text.isascii() else gate.first(text, False)
    for pattern in detector.patterns:
        match = pattern.search(text)
        if match is not None and (first < 0 or match.start() < first - detector.lead):
            return False
    return True


def test_every_builtin_detector_declares_a_lead() -> None:
    assert all(detector.lead is not None and detector.lead >= 0 for detector in DETECTORS)


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_no_corpus_match_starts_before_the_detectors_lead(detector: Detector) -> None:
    for text in CORPUS:
        for variant in (text, text.upper(), text.swapcase(), f"x {text}", f"{text} {text}"):
            assert _lead_holds(detector, variant), (detector.name, variant)


@pytest.mark.parametrize(
    "pattern",
    [(detector.name, index) for detector in DETECTORS for index in range(len(detector.patterns))],
    ids=lambda item: f"{item[0]}-{item[1]}",
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_generated_match_starts_before_the_detectors_lead(pattern: tuple[str, int], data: st.DataObject) -> None:
    name, index = pattern
    compiled = BUILTIN[name].patterns[index]
    alphabet = st.characters(max_codepoint=127) if data.draw(st.booleans()) else st.characters()
    text = data.draw(st.from_regex(compiled, alphabet=alphabet))
    assert _lead_holds(BUILTIN[name], text), text


def test_scanning_from_the_anchor_sees_the_text_before_it() -> None:
    """A look-behind or word boundary just before the scan start still rules a match out."""
    redactor = Redactor(build_policy())
    for text in ["x" * 40 + "Xsk_live_abcdefghijklmnop", "id9GB29NWBK60161331926819", "a" * 30 + "_ssn 536228726"]:
        tally = Tally()
        assert redactor.redact_text(text, tally) == text, text


def test_factored_groups_match_exactly_where_their_anchors_do() -> None:
    anchors = [r"\d\d[- ]\d", r"0\d{1,4}[ -]\d", r"[?&;]key=", r"@[\w-]+\.", r"\+[1-9]", "tel", r"a(?:b|c)"]
    gate = build_gate(anchors)
    assert gate is not None
    for text in ["12-3", "0123 4", "x&key=", "a@b.c", "+4", "hotel", "ac", "1-2", "00", "key=", "@.", "+0", "te", "ad"]:
        expected = any(re.search(anchor, text) for anchor in anchors)
        assert gate.matches(text, True) is expected, text


def test_a_policy_without_anchors_redacts_the_corpus_identically() -> None:
    """The reference runs every detector on every value; the gated redactor must agree on each output."""
    policy = build_policy()
    reference = Redactor(
        dataclasses.replace(policy, detectors=tuple(dataclasses.replace(d, anchors=()) for d in policy.detectors))
    )
    gated = Redactor(policy)
    for text in CORPUS:
        expected_tally, tally = Tally(), Tally()
        assert gated.redact_whole(text, tally) == reference.redact_whole(text, expected_tally), text
        assert tally.counts == expected_tally.counts


def test_custom_patterns_run_on_every_value() -> None:
    """A custom detector has no anchors: the gate cannot rule it out, whatever the value looks like."""
    redactor = Redactor(build_policy(patterns={"mrn": r"MRN[0-9]{6}"}))
    tally = Tally()
    assert redactor.redact_text("patient MRN123456 admitted", tally) == "patient [REDACTED:mrn] admitted"
    assert tally.counts == {"mrn": 1}


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A\d{1,4}(?:\.\d{1,4}){2,4}\Z") | st.text(alphabet="0123456789.", max_size=16))
def test_the_ipv4_check_agrees_with_ipaddress(candidate: str) -> None:
    """The hand-written octet parser is the standard library's rule (it runs on every IPv4 finding)."""
    try:
        address = ipaddress.IPv4Address(candidate)
        expected = not (address.is_loopback or address.is_unspecified or str(address) == "255.255.255.255")
    except ValueError:
        expected = False
    assert ipv4_ok(candidate) is expected
