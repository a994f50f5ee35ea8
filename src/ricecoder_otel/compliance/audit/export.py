"""Records for auditors, each with its inclusion proof in its checkpoint's Merkle tree.

With the proof, the checkpoint's root and its MAC, an auditor holding the key checks one record
without the rest of the journal (:func:`~ricecoder_otel.compliance.audit.engine.verify_inclusion`).
Records after the last checkpoint are exported with ``proof: null`` (chained, not yet signed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ricecoder_otel.compliance.audit.engine import Checkpoint, merkle_levels, proof_from_levels
from ricecoder_otel.compliance.audit.journal import CHECKPOINTS, JOURNAL, read_checkpoints


def exported_records(directory: str | Path, since: str = "") -> Iterator[dict[str, Any]]:
    """``{"record": ..., "proof": ...}`` for every record stamped at or after ``since`` (ISO, UTC)."""
    directory = Path(directory)
    checkpoints = iter(read_checkpoints(directory / CHECKPOINTS))
    current = next(checkpoints, None)
    group: list[dict[str, Any]] = []
    with (directory / JOURNAL).open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break  # a torn final write: never acknowledged
            group.append(json.loads(line))
            if current is not None and group[-1]["seq"] == current.last_seq:
                yield from _with_proofs(group, current, since)
                group, current = [], next(checkpoints, None)
    for record in group:
        if record["ts"] >= since:
            yield {"record": record, "proof": None}


def _with_proofs(group: list[dict[str, Any]], checkpoint: Checkpoint, since: str) -> Iterator[dict[str, Any]]:
    wanted = [i for i, record in enumerate(group) if record["ts"] >= since]
    if not wanted:
        return
    levels = merkle_levels([bytes.fromhex(record["hash"]) for record in group])
    for index in wanted:
        yield {
            "record": group[index],
            "proof": {
                "checkpoint": checkpoint.index,
                "leaf_index": index,
                "tree_size": len(group),
                "path": proof_from_levels(levels, index),
                "merkle_root": checkpoint.merkle_root,
                "checkpoint_mac": checkpoint.mac,
                "key_id": checkpoint.key_id,
            },
        }
