"""Parsing the query options of a request: $filter, $orderby, $select, $expand and the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.filter_parser import ExpressionParser, parse_filter
from stadtkern.sensorthings.query.lexer import TokenType, tokenize
from stadtkern.sensorthings.query.options import (
    ExpandItem,
    OrderKey,
    QueryOptions,
    ResultFormat,
    SelectItem,
)

_NESTED = ("$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count")
_TOP_LEVEL = (*_NESTED, "$resultFormat", "$skiptoken")
_PATH = re.compile(r"[A-Za-z_@][A-Za-z0-9_.]*(?:/[A-Za-z_@][A-Za-z0-9_.]*)*")
_DIGITS = re.compile(r"\d{1,18}")


def parse_query_options(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> QueryOptions:
    """The query options among decoded request parameters; other parameters are ignored."""
    pairs = params.items() if isinstance(params, Mapping) else params
    options = [(name, 0, value, 0) for name, value in pairs if name.startswith("$")]
    return _options(options, allowed=_TOP_LEVEL)


# (name, its position, value, the value's position); top-level options sit at position 0.
_Option = tuple[str, int, str, int]


def _options(options: list[_Option], allowed: tuple[str, ...]) -> QueryOptions:
    values: dict[str, object] = {}
    for name, name_offset, value, offset in options:
        if name not in allowed:
            known = ", ".join(allowed)
            raise QueryError(f"unknown query option {name!r} (known: {known})", name_offset)
        if name in values:
            raise QueryError(f"{name} is given more than once", name_offset)
        try:
            values[name] = _parse_option(name, value, offset)
        except QueryError as exc:
            raise exc.in_option(name) from None
    return QueryOptions(
        filter=values.get("$filter"),  # type: ignore[arg-type]
        orderby=values.get("$orderby", ()),  # type: ignore[arg-type]
        select=values.get("$select"),  # type: ignore[arg-type]
        expand=values.get("$expand", ()),  # type: ignore[arg-type]
        top=values.get("$top"),  # type: ignore[arg-type]
        skip=values.get("$skip"),  # type: ignore[arg-type]
        count=values.get("$count"),  # type: ignore[arg-type]
        result_format=values.get("$resultFormat"),  # type: ignore[arg-type]
        skiptoken=values.get("$skiptoken"),  # type: ignore[arg-type]
    )


def _parse_option(name: str, value: str, offset: int) -> object:
    if name == "$filter":
        return parse_filter(value, offset)
    if name == "$orderby":
        return parse_orderby(value, offset)
    if name == "$select":
        return parse_select(value, offset)
    if name == "$expand":
        return parse_expand(value, offset)
    if name in ("$top", "$skip"):
        if not _DIGITS.fullmatch(value):
            raise QueryError(f"expected a non-negative integer but found {value!r}", offset)
        return int(value)
    if name == "$skiptoken":
        return value  # opaque here; keyset.py decodes it against the collection
    if name == "$count":
        if value not in ("true", "false"):
            raise QueryError(f"expected true or false but found {value!r}", offset)
        return value == "true"
    for result_format in ResultFormat:
        if value.lower() == result_format.value.lower():
            return result_format
    known = ", ".join(result_format.value for result_format in ResultFormat)
    raise QueryError(f"expected one of {known} but found {value!r}", offset)


def parse_orderby(text: str, offset: int = 0) -> tuple[OrderKey, ...]:
    """The keys of an $orderby value, e.g. `phenomenonTime desc, result`."""
    parser = ExpressionParser(tokenize(text, offset))
    keys = []
    while True:
        expression = parser.expression()
        descending = False
        # Any case: OData writes asc/desc, but clients (the Fraunhofer one) send DESC.
        direction = parser.current.text.lower()
        if parser.current.type is TokenType.NAME and direction in ("asc", "desc"):
            descending = parser.advance().text.lower() == "desc"
        keys.append(OrderKey(expression, descending))
        if parser.current.type is TokenType.END:
            return tuple(keys)
        parser.expect(TokenType.COMMA, "',', asc, desc or end of input")


def parse_select(text: str, offset: int = 0) -> tuple[SelectItem, ...]:
    """The entries of a $select value, e.g. `id,name,Datastreams`."""
    tokens = tokenize(text, offset)
    parser = ExpressionParser(tokens)
    items = []
    while True:
        first = parser.expect(TokenType.NAME, "a property name")
        segments = [first.text]
        while parser.current.type is TokenType.SLASH:
            parser.advance()
            segments.append(parser.expect(TokenType.NAME, "a property name after '/'").text)
        items.append(SelectItem(tuple(segments), first.position))
        if parser.current.type is TokenType.END:
            return tuple(items)
        parser.expect(TokenType.COMMA, "',' or end of input")


def parse_expand(text: str, offset: int = 0) -> tuple[ExpandItem, ...]:
    """The entries of an $expand value, with nested options in parentheses."""
    return tuple(_expand_item(part, start) for part, start in _split(text, ",", offset))


def _expand_item(part: str, offset: int) -> ExpandItem:
    stripped = part.lstrip()
    offset += len(part) - len(stripped)
    stripped = stripped.rstrip()
    path = _PATH.match(stripped)
    if path is None:
        raise QueryError("expected a navigation property", offset)
    rest = stripped[path.end() :]
    segments = tuple(path.group().split("/"))
    if not rest:
        return ExpandItem(segments, QueryOptions(), offset)
    rest_offset = offset + path.end()
    if not rest.startswith("(") or not rest.endswith(")"):
        raise QueryError(f"expected '(' or ',' but found {rest[0]!r}", rest_offset)
    nested: list[_Option] = []
    for option, start in _split(rest[1:-1], ";", rest_offset + 1):
        name, equals, value = option.partition("=")
        lead = len(name) - len(name.lstrip())
        if not equals:
            raise QueryError("expected $option=value", start + lead)
        nested.append((name.strip(), start + lead, value, start + len(name) + 1))
    try:
        return ExpandItem(segments, _options(nested, allowed=_NESTED), offset)
    except QueryError as exc:
        # The enclosing option claims the error; the nested option's name leads the reason.
        reason = f"{exc.option}: {exc.reason}" if exc.option else exc.reason
        raise QueryError(reason, exc.position) from None


def _split(text: str, separator: str, offset: int) -> Iterator[tuple[str, int]]:
    """Parts of `text` between separators outside quotes and parentheses, with positions."""
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise QueryError("unbalanced ')'", offset + index)
        elif char == separator and depth == 0:
            yield _part(text, start, index, offset)
            start = index + 1
    if quoted:
        raise QueryError("unterminated string literal", offset + len(text))
    if depth:
        raise QueryError("expected ')' but found end of input", offset + len(text))
    yield _part(text, start, len(text), offset)


def _part(text: str, start: int, end: int, offset: int) -> tuple[str, int]:
    if not text[start:end].strip():
        raise QueryError("expected an entry but found nothing", offset + start)
    return text[start:end], offset + start
