"""What a read needs to know about its request, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.settings import SensorThingsSettings

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class ReadContext:
    """The tenant, its service root URL, its limits and the raw query of one read request.

    `query_items` are the decoded request query parameters in request order; links to further
    pages repeat them with new `$top`/`$skip` values.
    """

    tenant: TenantRef
    base_url: str  # the tenant's service root, e.g. http://testserver/kl/v1.1 (no trailing /)
    settings: SensorThingsSettings
    query_items: list[tuple[str, str]] = field(default_factory=list)

    def raw_option(self, name: str) -> str | None:
        """The raw text of a query option as sent, e.g. the `$expand` value."""
        return next((value for key, value in self.query_items if key == name), None)


@dataclass(frozen=True)
class Document:
    """A read's answer: a JSON value (or text for text media types) and its media type.

    A body of None answers 204 No Content (the `$value` of a null property, as OData says).

    `next_link` repeats a page's `@iot.nextLink` for formats that cannot carry it in the
    body (CSV); the HTTP adapter may send it as a `Link: <...>; rel="next"` header.
    """

    body: Any
    media_type: str = JSON_MEDIA_TYPE
    next_link: str | None = None
