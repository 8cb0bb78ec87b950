"""`$resultFormat=CSV`: a page of entities as a table (RFC 4180), e.g. for spreadsheets.

The header names the selected properties (`id` and `selfLink` for the control
information); an expanded to-one navigation adds its columns with a prefix
(`Datastream/name`), nested as deep as it is expanded. Objects and arrays are written as
JSON, null as an empty cell. A text cell starting with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a leading `'`, so that spreadsheets show it instead of running it as
a formula (numbers are written as numbers: they cannot hold a formula). A to-many
navigation cannot be expanded into one row per entity and is refused.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.collection import Listing
from stadtkern.sensorthings.context import Document
from stadtkern.sensorthings.expand_plan import Expansion
from stadtkern.sensorthings.render import ID, SELF_LINK, Selection, select_fields

CSV_MEDIA_TYPE = "text/csv"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Column = tuple[str, tuple[str, ...]]  # header, and the keys leading to the value in the JSON


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_document(listing: Listing) -> Document:
    """The entities of a listing as CSV text with a header row."""
    columns = _columns(listing.selection, listing.expansions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for header, _ in columns])
    for _, body in listing.nodes:
        writer.writerow([cell(_lookup(body, keys)) for _, keys in columns])
    return Document(buffer.getvalue(), CSV_MEDIA_TYPE, listing.next_link)


def cell(value: Any) -> str:
    """One CSV cell of a JSON value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _columns(
    selection: Selection, expansions: tuple[Expansion, ...], prefix: tuple[str, ...] = ()
) -> list[Column]:
    columns: list[Column] = []
    if selection.with_id:
        columns.append(_column(prefix, "id", ID))
    if selection.with_self_link:
        columns.append(_column(prefix, "selfLink", SELF_LINK))
    for field in selection.fields:
        columns.append(_column(prefix, field.name, field.name))
    for expansion in expansions:
        if expansion.link.to_many:
            raise BadRequest(
                f"$resultFormat=CSV: the to-many navigation {expansion.link.name} cannot be "
                "expanded into CSV rows; request it as its own collection"
            )
        nested = select_fields(expansion.target, expansion.options.select, "$expand")
        columns.extend(_columns(nested, expansion.children, (*prefix, expansion.link.name)))
    return columns


def _column(prefix: tuple[str, ...], header: str, key: str) -> Column:
    return "/".join((*prefix, header)), (*prefix, key)


def _lookup(body: dict[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = body
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
