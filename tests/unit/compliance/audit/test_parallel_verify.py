"""A large journal is verified by worker processes; their answer never differs from one process's."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from ricecoder_otel.compliance.audit import verify as verify_module
from ricecoder_otel.compliance.audit.journal import JOURNAL
from ricecoder_otel.compliance.audit.verify import verify_journal
from tests.unit.compliance.audit.test_chain_mutations import KEY, MUTATIONS, build, mutate

RANGE = 1000
"""Bytes per range handed to a worker: about three records, so a journal of a few dozen has many seams."""


@pytest.mark.parametrize("workers", [2, 3])
def test_an_intact_journal_is_confirmed_by_the_workers_alone(tmp_path: Path, workers: int) -> None:
    build(tmp_path, 60, every=7)
    with (
        mock.patch.object(verify_module, "_READ_SIZE", RANGE),
        mock.patch.object(verify_module, "_scan", side_effect=AssertionError("scanned in process")),
    ):
        result = verify_journal(tmp_path, KEY, workers=workers)
    assert result.ok, result.problem
    assert (result.records, result.last_seq, result.head_seq) == (60, 60, 60)
    assert (result.checkpoints, result.unsigned) == (9, 0)  # closing signs the rest


def test_small_journals_and_deep_verification_stay_in_process(tmp_path: Path) -> None:
    build(tmp_path, 20, every=7)
    with mock.patch.object(verify_module.subprocess, "Popen", side_effect=AssertionError("worker started")):
        assert verify_journal(tmp_path, KEY).ok
        assert verify_journal(tmp_path, KEY, deep=True, workers=2).ok


@pytest.mark.parametrize("kind", MUTATIONS)
def test_tampering_is_named_exactly_as_by_one_process(tmp_path: Path, kind: str) -> None:
    lines = build(tmp_path / "source", 40, every=7)
    for i, j in ((0, 39), (3, 4), (21, 22)):  # the first record, range seams, the middle
        directory = tmp_path / f"{kind}-{i}"
        build(directory, 40, every=7)
        mutated, first_bad = mutate(lines, kind, i, j)
        (directory / JOURNAL).write_bytes(b"".join(mutated))
        with (
            mock.patch.object(verify_module, "_READ_SIZE", RANGE),
            mock.patch.object(verify_module, "_scan", wraps=verify_module._scan) as in_process,
        ):
            result = verify_journal(directory, KEY, workers=2)
        assert not result.ok, (kind, i)
        assert result.first_bad_seq == first_bad, (kind, i, result.problem)
        # a truncated journal is an intact shorter chain: the workers confirm it, the end check names the loss
        assert in_process.call_count == (0 if kind == "truncate" and i > 0 else 1), (kind, i)
