"""Parsing a JSON $batch document into requests relative to the service root."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.dispatch import StaRequest


@dataclass(frozen=True)
class BatchPart:
    """One request of a batch: its unique id, its atomicity group (None: on its own), and the
    name later requests use to refer to what it created (`$name`; a multipart Content-ID,
    unique only within its changeset, so a later one shadows an earlier one).
    """

    id: str
    request: StaRequest
    group: str | None = None
    reference: str | None = None

    @property
    def name(self) -> str:
        """The `$name` later requests refer to it by."""
        return self.reference if self.reference is not None else self.id


def parse_json_batch(body: bytes, base_url: str) -> list[BatchPart]:
    """The requests of a JSON batch document."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"the $batch body is not valid JSON: {error}") from error
    requests = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(requests, list):
        raise BadRequest("a JSON $batch is an object with a 'requests' array")
    parts: list[BatchPart] = []
    seen: set[str] = set()
    for index, item in enumerate(requests):
        if not isinstance(item, dict):
            raise BadRequest(f"$batch request {index} is not an object")
        part_id = str(item.get("id", index))
        if part_id in seen:
            raise BadRequest(f"$batch request id {part_id!r} is used twice")
        seen.add(part_id)
        method = str(item.get("method", "")).upper()
        url = item.get("url")
        if method not in ("GET", "POST", "PATCH", "PUT", "DELETE") or not isinstance(url, str):
            raise BadRequest(f"$batch request {part_id!r} needs a method and a url")
        group = item.get("atomicityGroup")
        headers = item.get("headers") if isinstance(item.get("headers"), dict) else {}
        request = relative_request(method, url, base_url, item.get("body"), headers or {})
        parts.append(BatchPart(part_id, request, None if group is None else str(group)))
    _check_groups(parts)
    return parts


def relative_request(
    method: str, url: str, base_url: str, body: Any, headers: dict[str, Any]
) -> StaRequest:
    """A batch part's URL (absolute, absolute path, or relative) as a service-root request."""
    base_path = urlsplit(base_url).path
    split = urlsplit(url)
    path = split.path
    if url.startswith(base_url):
        path = urlsplit(url[len(base_url) :]).path
    elif path.startswith(base_path + "/") or path == base_path:
        path = path[len(base_path) :]
    content_type = next(
        (str(value) for name, value in headers.items() if name.lower() == "content-type"),
        "application/json",
    )
    query = parse_qsl(split.query, keep_blank_values=True)
    return StaRequest(method, path.lstrip("/"), query, body, content_type.split(";")[0].strip())


def _check_groups(parts: Sequence[BatchPart]) -> None:
    closed: set[str] = set()
    current: str | None = None
    for part in parts:
        if part.group != current:
            if current is not None:
                closed.add(current)
            if part.group in closed:
                raise BadRequest(f"the requests of atomicity group {part.group!r} must be adjacent")
            current = part.group
        if part.group is not None and part.request.method == "GET":
            raise BadRequest("a GET request cannot be part of an atomicity group")
