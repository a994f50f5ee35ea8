"""The shipped collector agent's redaction block is generated from the built-in detectors."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from benchmarks.redaction.corpus import corpus
from ricecoder_otel.compliance.redaction.collector import redaction_block, render
from ricecoder_otel.compliance.redaction.detectors import BUILTIN, COLLECTOR

AGENT = Path(__file__).resolve().parents[4] / "collector-config" / "agent.yaml"


def test_agent_yaml_redaction_block_matches_the_detectors() -> None:
    shipped = yaml.safe_load(AGENT.read_text())["processors"]["redaction"]
    assert shipped == redaction_block(), (
        "collector-config/agent.yaml drifted from the detectors: replace its redaction block with the output of "
        "`python -m ricecoder_otel.compliance.redaction.collector`"
    )
    assert render() in AGENT.read_text()  # comments (which detector each line is) too


def test_every_detector_has_a_collector_form_or_a_stated_reason() -> None:
    assert list(COLLECTOR) == list(BUILTIN)
    assert [name for name, pattern in COLLECTOR.items() if pattern is None] == ["ip_address"]


def test_collector_forms_catch_the_bare_corpus_values_of_their_kind() -> None:
    # RE2 syntax used here is a subset Python's re also reads, so the forms are checked on the corpus.
    kinds = {"email": "email", "card": "credit_card", "iban": "iban", "jwt": "jwt", "api_key": "api_key"}
    positives, _ = corpus("dev", positive_count=1500, clean_count=0)
    checked = 0
    for sample in positives:
        detector = kinds.get(sample.kind)
        if detector is None or sample.carrier != "bare":
            continue
        pattern = COLLECTOR[detector]
        assert pattern is not None
        assert re.search(pattern, sample.value), (detector, sample.value)
        checked += 1
    assert checked > 100
