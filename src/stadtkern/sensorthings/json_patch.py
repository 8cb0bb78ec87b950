"""JSON Patch (RFC 6902) over plain JSON values, with JSON Pointers (RFC 6901).

    apply_patch({"name": "a", "properties": {}},
                [{"op": "add", "path": "/properties/owner", "value": "SWK"}])
    # -> {"name": "a", "properties": {"owner": "SWK"}}

The document given is not changed. Any error (a malformed operation, a path that does not
exist, a failed "test") raises BadRequest and the whole patch is void (RFC 6902 §5). A failed
"test" raises its subclass PatchTestFailed: RFC 5789 §2.2 would allow 409 Conflict there,
but SensorThings answers invalid requests with 400, so that is what it is by default.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from stadtkern.errors import BadRequest


class PatchTestFailed(BadRequest):
    """A "test" operation found another value."""


def apply_patch(document: Any, operations: object) -> Any:
    """The document after every operation, in order."""
    if not isinstance(operations, list):
        raise BadRequest("a JSON Patch is an array of operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        result = _apply(result, operation, f"operation {index}")
    return result


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: true is not 1, 1 equals 1.0, object member order is free."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def parse_pointer(pointer: object, where: str) -> list[str]:
    """The reference tokens of a JSON Pointer ("" is the whole document)."""
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise BadRequest(f"{where}: {pointer!r} is not a JSON Pointer")
    if not pointer:
        return []
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _apply(document: Any, operation: object, where: str) -> Any:
    if not isinstance(operation, Mapping):
        raise BadRequest(f"{where}: expected a JSON object")
    name = operation.get("op")
    handler = _OPERATIONS.get(name) if isinstance(name, str) else None
    if handler is None:
        raise BadRequest(f"{where}: unknown op {name!r}")
    path = parse_pointer(operation.get("path"), f"{where} ({name})")
    return handler(document, path, operation, f"{where} ({name})")


def _member(operation: Mapping[str, object], key: str, where: str) -> object:
    if key not in operation:
        raise BadRequest(f"{where}: the member {key!r} is missing")
    return operation[key]


def _parent(document: Any, path: list[str], where: str) -> tuple[Any, str]:
    if not path:
        raise BadRequest(f"{where}: the operation cannot target the whole document")
    return _get(document, path[:-1], where), path[-1]


def _get(document: Any, path: list[str], where: str) -> Any:
    value = document
    for token in path:
        if isinstance(value, dict):
            if token not in value:
                raise BadRequest(f"{where}: no member {token!r}")
            value = value[token]
        elif isinstance(value, list):
            value = value[_index(value, token, where)]
        else:
            raise BadRequest(f"{where}: {token!r} does not lead into an object or array")
    return value


APPEND = "-"  # the index after the last element (RFC 6901 §4)


def _index(array: list[Any], token: str, where: str, *, end: bool = False) -> int:
    if end and token == APPEND:
        return len(array)
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise BadRequest(f"{where}: {token!r} is not an array index")
    index = int(token)
    if index > len(array) or (index == len(array) and not end):
        raise BadRequest(f"{where}: index {index} is out of range")
    return index


def _add(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    value = copy.deepcopy(_member(operation, "value", where))
    return _put(document, path, value, where)


def _put(document: Any, path: list[str], value: Any, where: str) -> Any:
    if not path:
        return value
    container, token = _parent(document, path, where)
    if isinstance(container, dict):
        container[token] = value
    elif isinstance(container, list):
        container.insert(_index(container, token, where, end=True), value)
    else:
        raise BadRequest(f"{where}: the parent of {token!r} is not an object or array")
    return document


def _remove(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    _take(document, path, where)
    return document


def _take(document: Any, path: list[str], where: str) -> Any:
    container, token = _parent(document, path, where)
    _get(container, [token], where)  # raises when absent
    if isinstance(container, dict):
        return container.pop(token)
    return container.pop(_index(container, token, where))


def _replace(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    value = copy.deepcopy(_member(operation, "value", where))
    if not path:
        return value
    _get(document, path, where)  # the target must exist
    container, token = _parent(document, path, where)
    if isinstance(container, dict):
        container[token] = value
    else:
        container[_index(container, token, where)] = value
    return document


def _move(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    source = parse_pointer(_member(operation, "from", where), where)
    if path[: len(source)] == source and path != source:
        raise BadRequest(f"{where}: cannot move a value into itself")
    if path == source:
        _get(document, path, where)
        return document
    return _put(document, path, _take(document, source, where), where)


def _copy(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    source = parse_pointer(_member(operation, "from", where), where)
    return _put(document, path, copy.deepcopy(_get(document, source, where)), where)


def _test(document: Any, path: list[str], operation: Mapping[str, object], where: str) -> Any:
    expected = _member(operation, "value", where)
    if not json_equal(_get(document, path, where), expected):
        raise PatchTestFailed(f"{where}: the value at the path is not {expected!r}")
    return document


_Operation = Callable[[Any, list[str], Mapping[str, object], str], Any]
_OPERATIONS: dict[str, _Operation] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}
