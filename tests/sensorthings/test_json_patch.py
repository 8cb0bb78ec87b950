"""JSON Patch (RFC 6902): every operation, the RFC's error cases, JSON equality for "test"."""

from __future__ import annotations

from typing import Any

import pytest

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.json_patch import PatchTestFailed, apply_patch, json_equal

DOCUMENT: dict[str, Any] = {
    "name": "Laterne",
    "properties": {"owner": "SWK", "tags": ["a", "b"], "a/b": 1},
}


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([{"op": "add", "path": "/properties/height", "value": 3}], {"height": 3}),
        ([{"op": "add", "path": "/properties/tags/1", "value": "x"}], {"tags": ["a", "x", "b"]}),
        ([{"op": "add", "path": "/properties/tags/-", "value": "c"}], {"tags": ["a", "b", "c"]}),
        ([{"op": "remove", "path": "/properties/tags/0"}], {"tags": ["b"]}),
        ([{"op": "replace", "path": "/properties/owner", "value": None}], {"owner": None}),
        ([{"op": "replace", "path": "/properties/a~1b", "value": 2}], {"a/b": 2}),
        (
            [{"op": "move", "from": "/properties/owner", "path": "/properties/operator"}],
            {"operator": "SWK"},
        ),
        ([{"op": "copy", "from": "/properties/tags", "path": "/properties/t"}], {"t": ["a", "b"]}),
        ([{"op": "test", "path": "/properties/tags", "value": ["a", "b"]}], {}),
    ],
)
def test_operations(operations: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    patched = apply_patch(DOCUMENT, operations)
    properties = patched["properties"]
    for key, value in expected.items():
        assert properties[key] == value
    assert DOCUMENT["properties"]["tags"] == ["a", "b"]  # the input is not changed


def test_remove_and_move_drop_the_source() -> None:
    assert (
        "owner"
        not in apply_patch(DOCUMENT, [{"op": "remove", "path": "/properties/owner"}])["properties"]
    )
    moved = apply_patch(DOCUMENT, [{"op": "move", "from": "/name", "path": "/title"}])
    assert "name" not in moved
    assert moved["title"] == "Laterne"


def test_a_failed_test_voids_the_patch() -> None:
    operations = [
        {"op": "replace", "path": "/name", "value": "x"},
        {"op": "test", "path": "/properties/owner", "value": "SWK!"},
    ]
    with pytest.raises(PatchTestFailed):
        apply_patch(DOCUMENT, operations)
    assert DOCUMENT["name"] == "Laterne"
    with pytest.raises(PatchTestFailed):
        apply_patch({"n": 1}, [{"op": "test", "path": "/n", "value": True}])


@pytest.mark.parametrize(
    "operations",
    [
        {"op": "add"},
        [{"op": "launch", "path": "/name"}],
        [{"path": "/name"}],
        [{"op": "add", "path": "name", "value": 1}],
        [{"op": "add", "path": "/name"}],
        [{"op": "replace", "path": "/missing", "value": 1}],
        [{"op": "remove", "path": "/properties/tags/5"}],
        [{"op": "add", "path": "/properties/tags/3", "value": 1}],
        [{"op": "add", "path": "/properties/tags/01", "value": 1}],
        [{"op": "add", "path": "/name/x", "value": 1}],
        [{"op": "add", "path": "/missing/x", "value": 1}],
        [{"op": "move", "from": "/properties", "path": "/properties/inner"}],
        [{"op": "copy", "path": "/x"}],
        [{"op": "remove", "path": ""}],
        ["add"],
    ],
)
def test_invalid_patches(operations: Any) -> None:
    with pytest.raises(BadRequest):
        apply_patch(DOCUMENT, operations)


def test_whole_document() -> None:
    assert apply_patch(DOCUMENT, [{"op": "replace", "path": "", "value": {"a": 1}}]) == {"a": 1}


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (0, False, False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, 2], [2, 1], False),
        ("1", 1, False),
        (None, None, True),
    ],
)
def test_json_equality(left: Any, right: Any, equal: bool) -> None:
    assert json_equal(left, right) is equal
