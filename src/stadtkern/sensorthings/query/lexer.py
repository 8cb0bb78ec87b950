"""The tokenizer of $filter and $orderby expressions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from stadtkern.sensorthings.query import literals
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import LiteralValue
from stadtkern.sensorthings.query.kinds import Kind


class TokenType(Enum):
    """What a token is."""

    LITERAL = "literal"
    NAME = "name"
    OPEN = "'('"
    CLOSE = "')'"
    COMMA = "','"
    SLASH = "'/'"
    MINUS = "'-'"
    END = "end of input"


@dataclass(frozen=True)
class Token:
    """One token with its place in the text; literals carry their value and kind."""

    type: TokenType
    text: str
    position: int
    value: LiteralValue = None
    kind: Kind | None = None


# Order matters: a date-time starts like a date, which starts like a number.
_LITERAL_FORMS: list[tuple[re.Pattern[str], Kind, Callable[[str, int], LiteralValue]]] = [
    (
        re.compile(rf"{literals.DATETIME_TEXT}/{literals.DATETIME_TEXT}"),
        Kind.INTERVAL,
        literals.parse_interval,
    ),
    (re.compile(literals.DATETIME_TEXT), Kind.DATETIME, literals.parse_datetime),
    (re.compile(literals.DATE_TEXT + r"(?![\d:])"), Kind.DATE, literals.parse_date),
    (re.compile(literals.TIME_TEXT), Kind.TIME, literals.parse_time),
]
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_.]*")
_SPACE = re.compile(r"\s+")
_TYPED_STRINGS: dict[str, tuple[Kind, Callable[[str, int], LiteralValue]]] = {
    "geography": (Kind.GEOMETRY, literals.parse_geography),
    "geometry": (Kind.GEOMETRY, literals.parse_geography),
    "duration": (Kind.DURATION, literals.parse_duration),
}
_PUNCTUATION = {
    "(": TokenType.OPEN,
    ")": TokenType.CLOSE,
    ",": TokenType.COMMA,
    "/": TokenType.SLASH,
    "-": TokenType.MINUS,
}
# Whole numbers beyond 64 bits would overflow the databases' integers.
_MAX_INTEGER = 2**63 - 1


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The content of the quoted string at `start` ('' stands for ') and the index after it."""
    parts = []
    index = start + 1
    while True:
        end = text.find("'", index)
        if end < 0:
            raise QueryError("unterminated string literal", start)
        parts.append(text[index:end])
        if text.startswith("''", end):
            parts.append("'")
            index = end + 2
        else:
            return "".join(parts), end + 1


def _number(text: str, position: int) -> Token:
    if "." in text or "e" in text.lower():
        value: LiteralValue = float(text)
        if value in (float("inf"), float("-inf")):
            raise QueryError(f"number {text} is out of range", position)
        return Token(TokenType.LITERAL, text, position, value, Kind.NUMBER)
    number = int(text)
    if abs(number) > _MAX_INTEGER:
        raise QueryError(f"integer {text} is out of range", position)
    return Token(TokenType.LITERAL, text, position, number, Kind.INTEGER)


def _name_or_typed(text: str, match: re.Match[str], position: int) -> tuple[Token, int]:
    name = match.group()
    end = match.end()
    if name in _TYPED_STRINGS and text.startswith("'", end):
        kind, parse = _TYPED_STRINGS[name]
        content, after = _quoted(text, end)
        value = parse(content, end + 1)
        return Token(TokenType.LITERAL, text[position:after], position, value, kind), after
    return Token(TokenType.NAME, name, position), end


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """The tokens of an expression, ending with an END token; positions count from `offset`."""
    try:
        tokens = _tokens(text)
    except QueryError as exc:
        raise QueryError(exc.reason, (exc.position or 0) + offset) from None
    if not offset:
        return tokens
    return [
        Token(token.type, token.text, token.position + offset, token.value, token.kind)
        for token in tokens
    ]


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        if space := _SPACE.match(text, index):
            index = space.end()
            continue
        char = text[index]
        if char == "'":
            value, end = _quoted(text, index)
            tokens.append(Token(TokenType.LITERAL, text[index:end], index, value, Kind.STRING))
            index = end
            continue
        token, index = _next_token(text, index)
        tokens.append(token)
    tokens.append(Token(TokenType.END, "", len(text)))
    return tokens


def _next_token(text: str, index: int) -> tuple[Token, int]:
    for pattern, kind, parse in _LITERAL_FORMS:
        if match := pattern.match(text, index):
            value = parse(match.group(), index)
            return Token(TokenType.LITERAL, match.group(), index, value, kind), match.end()
    if match := _NUMBER.match(text, index):
        if _NAME.match(text, match.end()):
            raise QueryError(f"unexpected {text[index : match.end() + 1]!r}", index)
        return _number(match.group(), index), match.end()
    if match := _NAME.match(text, index):
        return _name_or_typed(text, match, index)
    char = text[index]
    if char in _PUNCTUATION:
        return Token(_PUNCTUATION[char], char, index), index + 1
    raise QueryError(f"unexpected character {char!r}", index)
