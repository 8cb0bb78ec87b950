"""A precedence-climbing parser for $filter expressions (OData 4.01 operator precedence)."""

from __future__ import annotations

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import (
    Binary,
    Call,
    Expression,
    Literal,
    Negate,
    Not,
    Operator,
    Path,
)
from stadtkern.sensorthings.query.functions import SIGNATURES
from stadtkern.sensorthings.query.kinds import Kind
from stadtkern.sensorthings.query.lexer import Token, TokenType, tokenize

# Binding power of each binary operator: or < and < eq ne < gt ge lt le < add sub < mul div mod.
_BINDING = {
    Operator.OR: 1,
    Operator.AND: 2,
    Operator.EQ: 3,
    Operator.NE: 3,
    Operator.GT: 4,
    Operator.GE: 4,
    Operator.LT: 4,
    Operator.LE: 4,
    Operator.ADD: 5,
    Operator.SUB: 5,
    Operator.MUL: 6,
    Operator.DIV: 6,
    Operator.MOD: 6,
}
# `not` and `-` bind tighter than every binary operator, so `not a eq b` is `(not a) eq b`.
_UNARY = 7
_KEYWORDS = {"true": True, "false": False}
_RESERVED = frozenset({*(str(op) for op in Operator), "not", "asc", "desc"})
# Deeper nesting is surely an attack on the recursion limit, not a sensor query.
_MAX_DEPTH = 100


def _describe(token: Token) -> str:
    return "end of input" if token.type is TokenType.END else repr(token.text)


class ExpressionParser:
    """Parses expressions from a token list; used for $filter and the keys of $orderby."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        """The next unconsumed token."""
        return self.tokens[self.index]

    def advance(self) -> Token:
        """Consume and return the next token."""
        token = self.tokens[self.index]
        if token.type is not TokenType.END:
            self.index += 1
        return token

    def expect(self, kind: TokenType, what: str | None = None) -> Token:
        """Consume a token of the given type or fail naming what was expected."""
        token = self.current
        if token.type is not kind:
            wanted = what or kind.value
            raise QueryError(f"expected {wanted} but found {_describe(token)}", token.position)
        return self.advance()

    def expression(self, min_binding: int = 0) -> Expression:
        """An expression whose binary operators bind tighter than `min_binding`."""
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise QueryError("expression nested too deeply", self.current.position)
        left = self._prefix()
        while True:
            token = self.current
            operator = _operator(token)
            if operator is None or _BINDING[operator] <= min_binding:
                break
            self.advance()
            right = self.expression(_BINDING[operator])
            left = Binary(operator, left, right, token.position)
        self.depth -= 1
        return left

    def _prefix(self) -> Expression:
        token = self.advance()
        if token.type is TokenType.LITERAL:
            assert token.kind is not None  # noqa: S101 - the lexer sets a literal's kind
            return Literal(token.value, token.kind, token.position)
        if token.type is TokenType.OPEN:
            inner = self.expression()
            self.expect(TokenType.CLOSE, "')' or an operator")
            return inner
        if token.type is TokenType.MINUS:
            return Negate(self.expression(_UNARY), token.position)
        if token.type is TokenType.NAME:
            return self._named(token)
        raise QueryError(f"expected an operand but found {_describe(token)}", token.position)

    def _named(self, token: Token) -> Expression:
        name = token.text
        if name in _KEYWORDS:
            return Literal(_KEYWORDS[name], Kind.BOOLEAN, token.position)
        if name == "null":
            return Literal(None, Kind.NULL, token.position)
        if name == "not":
            return Not(self.expression(_UNARY), token.position)
        if self.current.type is TokenType.OPEN:
            return self._call(token)
        if name in _RESERVED:
            raise QueryError(f"expected an operand but found {name!r}", token.position)
        segments = [name]
        while self.current.type is TokenType.SLASH:
            self.advance()
            segment = self.expect(TokenType.NAME, "a property name after '/'")
            segments.append(segment.text)
        return Path(tuple(segments), token.position)

    def _call(self, token: Token) -> Call:
        if token.text not in SIGNATURES:
            raise QueryError(f"unknown function {token.text!r}", token.position)
        self.advance()
        arguments: list[Expression] = []
        if self.current.type is not TokenType.CLOSE:
            arguments.append(self.expression())
            while self.current.type is TokenType.COMMA:
                self.advance()
                arguments.append(self.expression())
        self.expect(TokenType.CLOSE, "',' or ')'")
        return Call(token.text, tuple(arguments), token.position)


def _operator(token: Token) -> Operator | None:
    if token.type is not TokenType.NAME:
        return None
    try:
        return Operator(token.text)
    except ValueError:
        return None


def parse_filter(text: str, offset: int = 0) -> Expression:
    """The syntax tree of a $filter value; positions count from `offset`."""
    parser = ExpressionParser(tokenize(text, offset))
    if parser.current.type is TokenType.END:
        raise QueryError("expected an expression but found end of input", parser.current.position)
    expression = parser.expression()
    token = parser.current
    if token.type is not TokenType.END:
        raise QueryError(
            f"expected an operator or end of input but found {_describe(token)}", token.position
        )
    return expression
