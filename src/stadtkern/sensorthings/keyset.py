"""Keyset paging: `@iot.nextLink` carries `$skiptoken` instead of a growing `$skip`.

A page is ordered by its ORDER BY terms, the last always the id, so a row's values of those
terms place it exactly. The next page's link carries them as an opaque token (base64url
JSON: a digest of the collection and its `$orderby`, and the key values), and the request
with the token continues after that row with a range condition instead of `OFFSET`, so a
deep page costs what the first one costs.

    keys = order_keys(order)               # None when a term cannot be taken apart
    after = keys.after(decode_token(token, scope, len(keys.terms)))

NULL sorts first ascending and last descending (the order of `$orderby`, see
query/ordering.py); a leading key on a NOT NULL column is ordered without a NULLS clause, so
that PostgreSQL walks the btree (datastream_id, phenomenon_time_start) in either direction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, and_, false, literal, or_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from stadtkern.errors import BadRequest

SKIP_TOKEN = "$skiptoken"  # noqa: S105 - the query option, not a secret
_TIME = "t"
_DECIMAL = "d"


@dataclass(frozen=True)
class KeyTerm:
    """One ORDER BY term: its expression and direction (NULL is the smallest value)."""

    expression: ColumnElement[Any]
    descending: bool

    @property
    def not_null(self) -> bool:
        """True for a column that cannot hold NULL."""
        return isinstance(self.expression, Column) and not self.expression.nullable

    def ordered(self) -> ColumnElement[Any]:
        """The ORDER BY term; NULLS FIRST/LAST only where NULL can occur."""
        column = self.expression
        if self.not_null:
            return column.desc() if self.descending else column.asc()
        return column.desc().nulls_last() if self.descending else column.asc().nulls_first()

    def beyond(self, value: Any) -> ColumnElement[bool]:
        """The rows that come after `value` in this term's order."""
        column = self.expression
        if self.descending:
            if value is None:
                return false()
            below = column < _bound(column, value)
            return below if self.not_null else or_(below, column.is_(None))
        if value is None:
            return column.is_not(None)
        return column > _bound(column, value)

    def equal(self, value: Any) -> ColumnElement[bool]:
        """The rows with `value` in this term."""
        column = self.expression
        return column.is_(None) if value is None else column == _bound(column, value)


@dataclass(frozen=True)
class KeyOrder:
    """The ORDER BY terms of a page, taken apart for range conditions."""

    terms: tuple[KeyTerm, ...]

    def order(self) -> list[ColumnElement[Any]]:
        """ORDER BY terms (the same order the plain terms give)."""
        return [term.ordered() for term in self.terms]

    def labels(self) -> list[ColumnElement[Any]]:
        """The key values as extra columns of the page query."""
        return [term.expression.label(f"_key{index}") for index, term in enumerate(self.terms)]

    def values(self, row: Any) -> list[Any]:
        """The key values of a fetched row."""
        return [row[f"_key{index}"] for index in range(len(self.terms))]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows after the row with the key `values` (a lexicographic range condition)."""
        options = []
        for index, term in enumerate(self.terms):
            equal = [self.terms[i].equal(values[i]) for i in range(index)]
            options.append(and_(*equal, term.beyond(values[index])))
        condition = or_(*options)
        first, value = self.terms[0], values[0]
        if first.not_null and value is not None:
            # Redundant, but an index range on the leading key needs a plain bound.
            column = first.expression
            bound = _bound(column, value)
            condition = and_(column <= bound if first.descending else column >= bound, condition)
        return condition


def order_keys(order: Sequence[ColumnElement[Any]]) -> KeyOrder | None:
    """The terms of an ORDER BY list, or None when one is not `expr ASC|DESC [NULLS ..]`."""
    terms = []
    for term in order:
        element: Any = term
        if isinstance(element, UnaryExpression) and element.modifier in (
            operators.nulls_first_op,
            operators.nulls_last_op,
        ):
            element = element.element
        if not isinstance(element, UnaryExpression) or element.modifier not in (
            operators.asc_op,
            operators.desc_op,
        ):
            return None
        terms.append(KeyTerm(element.element, element.modifier is operators.desc_op))
    return KeyOrder(tuple(terms)) if terms else None


def scope_of(collection: str, orderby: str | None) -> str:
    """A short digest of the collection and its `$orderby`, so tokens fit only their own."""
    canonical = " ".join((orderby or "").split()).lower()
    digest = hashlib.blake2b(f"{collection}|{canonical}".encode(), digest_size=6)
    return digest.hexdigest()


def encode_token(scope: str, values: Sequence[Any]) -> str | None:
    """The token continuing after a row with these key values; None if one cannot be sent."""
    encoded: list[Any] = []
    for value in values:
        if isinstance(value, datetime):
            encoded.append({_TIME: value.isoformat()})
        elif isinstance(value, Decimal):
            encoded.append({_DECIMAL: str(value)})
        elif value is None or isinstance(value, bool | int | float | str):
            encoded.append(value)
        else:
            return None
    text = json.dumps({"s": scope, "k": encoded}, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, scope: str, size: int) -> list[Any]:
    """The key values in a token; BadRequest when malformed or made for another listing."""
    try:
        padded = token + "=" * (-len(token) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        keys = document["k"]
        token_scope = document["s"]
        if not isinstance(keys, list) or not isinstance(token_scope, str):
            raise TypeError("not a token")
        values = [_decoded(value) for value in keys]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        raise BadRequest(f"{SKIP_TOKEN}: malformed token {token[:40]!r}") from None
    if token_scope != scope or len(values) != size:
        raise BadRequest(
            f"{SKIP_TOKEN}: the token belongs to another collection or $orderby; "
            "follow the @iot.nextLink of this request"
        )
    return values


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TIME}:
            moment = datetime.fromisoformat(value[_TIME])
            if moment.tzinfo is None:
                raise ValueError("a key time without its zone")
            return moment
        if set(value) == {_DECIMAL}:
            return Decimal(value[_DECIMAL])
        raise ValueError("unknown key value")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError("unknown key value")


def _bound(column: ColumnElement[Any], value: Any) -> ColumnElement[Any]:
    """`value` bound with the column's type (SQLite compares times as the stored text)."""
    return literal(value, type_=column.type)
