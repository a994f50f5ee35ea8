"""``sanitize``: any Python value becomes an exportable AnyValue, within bounds, with visible markers."""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

import pytest

from ricecoder_otel.kernel.sanitize import (
    CYCLE,
    DEPTH_LIMIT,
    TRUNCATED,
    SanitizeLimits,
    is_plain,
    safe_str,
    sanitize,
)


def _deep(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value  # type: ignore[no-any-return]


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, dict | list):
        value = value["k"] if isinstance(value, dict) else value[0]
        depth += 1
    return depth


class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


@pytest.mark.parametrize("value", ["text", True, 3, -(2**63), 2.5, None, b"raw", ("a", 1), ["a", {"b": [1, 2.0]}]])
def test_exportable_values_come_back_as_the_same_object(value: object) -> None:
    assert sanitize(value) is value


def test_a_cycle_is_cut_where_it_closes_and_siblings_survive() -> None:
    shared = {"x": 1}
    body: dict[str, Any] = {"name": "order", "left": shared, "right": shared, "items": [1, 2]}
    body["self"] = body
    body["items"].append(body["items"])

    clean = sanitize(body)
    assert clean == {"name": "order", "left": {"x": 1}, "right": {"x": 1}, "items": [1, 2, CYCLE], "self": CYCLE}


def test_nesting_past_the_depth_limit_is_replaced_by_a_marker() -> None:
    clean = sanitize(_deep(5000), SanitizeLimits(max_depth=20))
    assert _depth(clean) == 20
    innermost: Any = clean
    for _ in range(20):
        innermost = innermost["k"]
    assert innermost == DEPTH_LIMIT


def test_big_containers_and_strings_are_cut_with_markers() -> None:
    limits = SanitizeLimits(max_items=3, max_str_len=5)
    assert sanitize(list(range(10)), limits) == [0, 1, 2, TRUNCATED]
    assert sanitize({f"k{i}": i for i in range(10)}, limits) == {"k0": 0, "k1": 1, "k2": 2, TRUNCATED: 7}
    assert sanitize("abcdefgh", limits) == "abcde" + TRUNCATED
    assert sanitize(b"abcdefgh", limits) == b"abcde"
    assert sanitize(range(10**12), limits) == [0, 1, 2, TRUNCATED]  # never materialised


def test_the_total_work_is_bounded_by_the_value_budget() -> None:
    wide = [[i] * 50 for i in range(50)]  # 2,551 values
    clean = sanitize(wide, SanitizeLimits(max_values=100))
    flat = [item for row in clean for item in (row if isinstance(row, list) else [row])]  # type: ignore[attr-defined]
    assert TRUNCATED in flat
    assert sum(1 for item in flat if item != TRUNCATED) < 100


def test_unsupported_types_become_text_or_plain_collections() -> None:
    class Money:
        def __str__(self) -> str:
            return "12.50 EUR"

    clean = sanitize(
        {
            "amount": Money(),
            "tags": {"b"},
            "queue": deque([1]),
            "ordered": OrderedDict(a=1),
            "huge": 2**70,
            "hostile": _Hostile(),
            7: "int key",
            "buffer": bytearray(b"xy"),
        }
    )
    assert clean == {
        "amount": "12.50 EUR",
        "tags": ["b"],
        "queue": [1],
        "ordered": {"a": 1},
        "huge": str(2**70),
        "hostile": "<unrepresentable _Hostile>",
        "7": "int key",
        "buffer": b"xy",
    }


def test_a_mapping_whose_iteration_raises_is_represented_not_raised() -> None:
    class Broken(dict[str, int]):
        def items(self) -> Any:
            raise RuntimeError("no items for you")

        def __repr__(self) -> str:
            raise RuntimeError("nor a repr")

    assert sanitize({"ok": 1, "bad": Broken(a=1)}) == {"ok": 1, "bad": "<unrepresentable Broken>"}


def test_safe_str_and_is_plain() -> None:
    assert safe_str(_Hostile()) == "<unrepresentable _Hostile>"
    assert safe_str("x" * 10, max_len=4) == "xxxx" + TRUNCATED
    assert is_plain("short") and is_plain(2**63 - 1) and is_plain(None) and is_plain(1.5)
    assert not is_plain(2**63) and not is_plain("x" * 10, max_str_len=5) and not is_plain([1])


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        SanitizeLimits(max_depth=0)
