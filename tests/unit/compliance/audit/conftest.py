"""One pool of real worker processes for the verification tests that run many examples: each
``verify_journal(..., executor=pool)`` then checks its byte ranges in other processes without
starting new ones per example."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest


@pytest.fixture(scope="session")
def verify_pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool
