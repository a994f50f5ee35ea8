"""Checkpoint Merkle roots and inclusion proofs follow RFC 6962's definition for every tree size."""

from __future__ import annotations

import hashlib

from ricecoder_otel.compliance.audit.engine import inclusion_proof, merkle_root, verify_inclusion


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) as RFC 6962 section 2.1 writes it: split at the largest power of two below n."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:split]) + rfc6962_root(leaves[split:])).digest()


def test_roots_match_the_rfc_and_every_leaf_has_a_proof() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    for size in range(1, 70):
        hashes = [hashlib.sha256(b"record %d" % i).digest() for i in range(size)]
        root = merkle_root(hashes)
        assert root == rfc6962_root(hashes).hex(), size
        for index in range(size):
            proof = inclusion_proof(hashes, index)
            assert verify_inclusion(hashes[index].hex(), index, size, proof, root)
            assert not verify_inclusion(hashes[(index + 1) % size].hex(), index, size, proof, root) or size == 1
