"""A profile as pprof's ``profile.proto``, gzip-compressed: what ``go tool pprof`` and Pyroscope read.

The message is google/pprof's ``proto/profile.proto``; only the fields a wall-clock sample
profile needs are written (sample types, samples with location ids, locations with one line
each, functions, the string table, period, duration, comments). The wire format is encoded
here (varints and length-delimited fields, repeated scalars packed) because the few messages
do not justify a generated module or a new dependency.

Samples carry two values, ``samples/count`` and ``wall/nanoseconds`` (count over the rate),
and a ``trace_id`` label, so a profile merged with others can still be narrowed to one trace
(``-tagfocus``). Frames are the collapsed form's ``dir/file.py:qualname``: the function is
the qualname, its file the path part (the collapsed form keeps no line numbers).

Pure: no OpenTelemetry imports.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

NANOS = 1_000_000_000


def _varint(value: int) -> bytes:
    if value < 0:  # int64 fields: two's complement, ten bytes
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int(field: int, value: int) -> bytes:
    """A varint field; zero (the default) is left out, as proto3 encoders do."""
    return _varint(field << 3) + _varint(value) if value else b""


def _bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _packed(field: int, values: Iterable[int]) -> bytes:
    return _bytes(field, b"".join(_varint(v) for v in values))


class _Strings:
    """pprof's string table: index 0 is the empty string; fields hold indexes."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def encoded(self) -> bytes:
        return b"".join(_bytes(6, text.encode("utf-8", "replace")) for text in self.index)


def _value_type(strings: _Strings, kind: str, unit: str) -> bytes:
    return _int(1, strings(kind)) + _int(2, strings(unit))


def encode(
    stacks: Iterable[tuple[list[str], int]],
    *,
    rate_hz: float,
    trace_id: str = "",
    comments: Iterable[str] = (),
    time_ns: int = 0,
    duration_s: float = 0.0,
) -> bytes:
    """The uncompressed ``Profile`` message for collapsed ``stacks`` (frames root to leaf, count)."""
    strings = _Strings()
    period = max(1, round(NANOS / rate_hz)) if rate_hz > 0 else NANOS // 100
    out = bytearray()
    out += _bytes(1, _value_type(strings, "samples", "count"))
    out += _bytes(1, _value_type(strings, "wall", "nanoseconds"))
    functions: dict[str, int] = {}  # frame label -> function id (= its location id)
    label = _int(1, strings("trace_id")) + _int(2, strings(trace_id)) if trace_id else b""
    for frames, count in stacks:
        if count <= 0 or not frames:
            continue
        ids = [functions.setdefault(frame, len(functions) + 1) for frame in reversed(frames)]  # leaf first
        sample = _packed(1, ids) + _packed(2, [count, count * period])
        if label:
            sample += _bytes(3, label)
        out += _bytes(2, sample)
    for frame, ident in functions.items():
        where, _, name = frame.rpartition(":")
        line = _int(1, ident)  # Line.function_id
        out += _bytes(4, _int(1, ident) + _bytes(4, line))  # Location{id, line}
        name_index, file_index = strings(name or frame), strings(where)
        out += _bytes(5, _int(1, ident) + _int(2, name_index) + _int(3, name_index) + _int(4, file_index))
    comment_ids = [strings(text) for text in comments]
    period_type = _value_type(strings, "wall", "nanoseconds")
    default_type = strings("wall")
    out += strings.encoded()
    out += _int(9, time_ns)
    out += _int(10, round(duration_s * NANOS))
    out += _bytes(11, period_type)
    out += _int(12, period)
    if comment_ids:
        out += _packed(13, comment_ids)
    out += _int(14, default_type)
    return bytes(out)


def pprof(
    stacks: Iterable[tuple[list[str], int]],
    *,
    rate_hz: float,
    trace_id: str = "",
    comments: Iterable[str] = (),
    time_ns: int = 0,
    duration_s: float = 0.0,
) -> bytes:
    """The gzip-compressed profile, as pprof files are stored and served."""
    message = encode(
        stacks, rate_hz=rate_hz, trace_id=trace_id, comments=comments, time_ns=time_ns, duration_s=duration_s
    )
    return gzip.compress(message, mtime=0)
