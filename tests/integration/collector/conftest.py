"""Fixtures for the collector tests: the shipped topology, started per test and stopped by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.collector import Topology, start_topology


@pytest.fixture
def topology_factory(tmp_path: Path) -> Iterator[Callable[..., Topology]]:
    made: list[Topology] = []

    def make(**kwargs: Any) -> Topology:
        topology = start_topology(tmp_path / f"topology-{len(made)}", **kwargs)
        made.append(topology)
        return topology

    yield make
    for topology in made:
        topology.stop()
