"""A Resource whose hash is computed once.

The OTLP encoders group every span, log record and metric by resource, and the SDK's
``Resource.__hash__`` serialises all attributes to sorted JSON on every call: with the
thirteen attributes our detectors add that is ~10-20 µs, paid two or three times per span and
per log record on the export threads. A resource's attributes are immutable
(``BoundedAttributes(immutable=True)``), so its hash can be kept.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource

__all__ = ["HashOnceResource", "hash_once"]


class HashOnceResource(Resource):
    """The SDK Resource with the same attributes, equality and hash, computed at construction."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = Resource.__hash__(self)

    def __hash__(self) -> int:
        return self._hash


def hash_once(resource: Resource) -> Resource:
    """``resource`` as a :class:`HashOnceResource` (returned as is when it already is one)."""
    return resource if isinstance(resource, HashOnceResource) else HashOnceResource(resource)
