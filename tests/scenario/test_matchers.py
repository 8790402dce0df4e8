"""Subset matching (``expect``), matchers, variables and paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpoint.scenario.matchers import UnknownVariable, extract, match, resolve

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_everything_matches_itself(value: Any) -> None:
    assert match(value, value) == []


def test_a_mapping_is_a_subset_match() -> None:
    actual = {"status": "Accepted", "interval": 300, "currentTime": "2025-06-01T08:00:00Z"}
    assert match({"status": "Accepted"}, actual) == []
    assert match({"status": "Rejected"}, actual) == ["status: expected 'Rejected', got 'Accepted'"]
    assert match({"idTagInfo": {"status": "Accepted"}}, {"idTagInfo": {}}) == [
        "idTagInfo.status: missing, expected 'Accepted'"
    ]


def test_scalars_must_have_the_same_json_type() -> None:
    assert match(1, True) != []
    assert match(True, 1) != []
    assert match("1", 1) != []
    assert match(1, 1.0) == []
    assert match(None, None) == []


def test_lists_match_item_by_item_and_length() -> None:
    assert match([{"a": 1}], [{"a": 1, "b": 2}]) == []
    assert match([1, 2], [1]) != []
    assert match([1, 2], [1, 3]) == ["[1]: expected 2, got 3"]


@pytest.mark.parametrize(
    ("matcher", "good", "bad"),
    [
        ({"$in": ["Accepted", "Pending"]}, "Pending", "Rejected"),
        ({"$regex": r"CP-\d+"}, "CP-001", "CP-001x"),
        ({"$type": "integer"}, 7, 7.5),
        ({"$type": "integer"}, 7, True),
        ({"$type": "number"}, 7.5, "7.5"),
        ({"$type": "string"}, "x", 1),
        ({"$type": "object"}, {}, []),
        ({"$type": "array"}, [], {}),
        ({"$type": "null"}, None, 0),
        ({"$type": "boolean"}, False, 0),
        ({"$gte": 5500}, 5500, 5499),
        ({"$gt": 5500}, 5500.5, 5500),
        ({"$lte": 10}, 10, 10.01),
        ({"$lt": 10}, 9, 10),
        ({"$gte": 1}, 1, True),  # a boolean is not a number (JSON)
        ({"$gte": 1}, 1, "2"),
    ],
)
def test_matchers(matcher: dict[str, Any], good: Any, bad: Any) -> None:
    assert match({"x": matcher}, {"x": good}) == []
    assert len(match({"x": matcher}, {"x": bad})) == 1


def test_exists() -> None:
    assert match({"x": {"$exists": True}}, {"x": None}) == []
    assert match({"x": {"$exists": True}}, {}) != []
    assert match({"x": {"$exists": False}}, {}) == []
    assert match({"x": {"$exists": False}}, {"x": 1}) != []


def test_several_matchers_must_all_hold() -> None:
    both = {"$type": "string", "$regex": "A.*"}
    assert match(both, "Accepted") == []
    assert match(both, "Blocked") != []


def test_bounds_combine_into_a_range_and_say_what_failed() -> None:
    between = {"$gte": 5500, "$lt": 5600}
    assert match(between, 5518) == []
    assert match(between, 5600) == ["value: expected less than 5600, got 5600"]
    assert match({"x": {"$gte": "5500"}}, {"x": 6000}) == ["x: $gte takes a number, not '5500'"]


def test_an_unknown_type_is_reported() -> None:
    assert "unknown $type" in match({"$type": "int"}, 1)[0]


def test_resolve_keeps_the_type_of_a_whole_variable() -> None:
    variables = {"tx": 42, "tag": "TAG-1"}
    assert resolve({"transactionId": "${tx}"}, variables, {}) == {"transactionId": 42}
    assert resolve(["id ${tag} on ${tx}"], variables, {}) == ["id TAG-1 on 42"]


def test_resolve_falls_back_to_the_environment_and_reports_unknown_names() -> None:
    assert resolve("${HOME_URL}/x", {}, {"HOME_URL": "ws://h"}) == "ws://h/x"
    assert resolve("${tx}", {"tx": 1}, {"tx": "env"}) == 1
    with pytest.raises(UnknownVariable, match=r"\$\{nope\}"):
        resolve({"a": ["${nope}"]}, {}, {})


def test_extract_dotted_paths() -> None:
    data = {"idTagInfo": {"status": "Accepted"}, "items": [{"key": "A"}]}
    assert extract(data, "idTagInfo.status") == "Accepted"
    assert extract(data, "items.0.key") == "A"
    with pytest.raises(KeyError):
        extract(data, "idTagInfo.expiryDate")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, "1" + "0" * 400 + "s"])
def test_durations_must_be_finite(value: object) -> None:
    from mockpoint.scenario.model import parse_duration

    with pytest.raises(ValueError, match="finite|too large"):
        parse_duration(value)
