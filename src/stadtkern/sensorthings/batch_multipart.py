"""The multipart/mixed form of $batch (OData 4.0 batch, as STA 1.1 section 11.2 shows it).

A batch is a multipart/mixed body; each part is either one HTTP request (`application/http`)
or a changeset: a nested multipart/mixed whose requests form one atomicity group. The
answer has the same shape, one `application/http` response per request.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.batch_parts import BatchPart, relative_request
from stadtkern.sensorthings.dispatch import StaRequest, StaResponse

FAILED_DEPENDENCY = 424
_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))""", re.IGNORECASE)
_REQUEST_LINE = re.compile(r"(GET|POST|PATCH|PUT|DELETE)\s+(\S+)(?:\s+HTTP/1\.[01])?\Z")


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart content type."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise BadRequest("a multipart/mixed $batch needs a boundary parameter")
    return match.group(1) or match.group(2)


def split_parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: their headers (lower-case names) and content."""
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise BadRequest(f"the multipart body does not end with the boundary {boundary!r}")
    parts = []
    for chunk in chunks[1:-1]:
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, content = _split_head(chunk)
        parts.append((_headers(head), _strip_line_end(content)))
    return parts


def _split_head(chunk: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = chunk.partition(separator)
        if found:
            return head, rest
    return chunk, b""


def _strip_line_end(content: bytes) -> bytes:
    # The CRLF before the next delimiter belongs to the delimiter (RFC 2046).
    if content.endswith(b"\r\n"):
        return content[:-2]
    return content.removesuffix(b"\n")


def _headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def parse_multipart(body: bytes, content_type: str, base_url: str) -> list[BatchPart]:
    """The requests of a multipart batch; a changeset's requests share an atomicity group."""
    parts: list[BatchPart] = []
    for index, (headers, content) in enumerate(split_parts(body, boundary_of(content_type))):
        kind = headers.get("content-type", "")
        if kind.lower().startswith("multipart/mixed"):
            group = f"changeset-{index}"
            for inner_headers, inner in split_parts(content, boundary_of(kind)):
                request = _http_request(inner, base_url)
                content_id = inner_headers.get("content-id")
                parts.append(BatchPart(f"{index}.{len(parts)}", request, group, content_id))
        else:
            request = _http_request(content, base_url)
            parts.append(BatchPart(str(index), request, None, headers.get("content-id")))
    return parts


def _http_request(content: bytes, base_url: str) -> StaRequest:
    head, body = _split_head(content.lstrip(b"\r\n"))
    lines = head.decode("utf-8", "replace").splitlines()
    match = _REQUEST_LINE.match(lines[0].strip()) if lines else None
    if match is None:
        raise BadRequest("a $batch part does not start with a request line such as 'GET Things'")
    headers = _headers("\n".join(lines[1:]).encode())
    payload: Any = None
    if body.strip():
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise BadRequest(f"a $batch part's body is not valid JSON: {error}") from error
    return relative_request(match.group(1), match.group(2), base_url, payload, headers)


def render_multipart(parts: Sequence[BatchPart], answers: dict[str, StaResponse]) -> StaResponse:
    """The multipart/mixed answer: one application/http part per request, changesets nested."""
    boundary = f"batchresponse_{secrets.token_hex(8)}"
    chunks: list[bytes] = []
    index = 0
    while index < len(parts):
        group = parts[index].group
        end = index + 1
        while group is not None and end < len(parts) and parts[end].group == group:
            end += 1
        members = parts[index:end]
        failure = next((answers[p.id] for p in members if _failed(answers[p.id])), None)
        if group is None:
            chunks.append(_http_part(members[0], answers[members[0].id], content_id=False))
        elif failure is not None:
            # OData 4.0 §11.7.4: a failed change set is answered by one error response.
            chunks.append(_http_part(members[0], failure, content_id=False))
        else:
            inner = f"changesetresponse_{secrets.token_hex(8)}"
            nested = b"".join(
                b"--" + inner.encode() + b"\r\n" + _http_part(part, answers[part.id])
                for part in members
            )
            chunks.append(
                f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode()
                + nested
                + f"--{inner}--\r\n".encode()
            )
        index = end
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + chunk for chunk in chunks)
    body += f"--{boundary}--\r\n".encode()
    return StaResponse(200, body, f"multipart/mixed; boundary={boundary}")


def _failed(answer: StaResponse) -> bool:
    # The failing request's own error, not the 424 of the requests that depended on it.
    return answer.status >= 400 and answer.status != FAILED_DEPENDENCY


def _http_part(part: BatchPart, answer: StaResponse, *, content_id: bool = True) -> bytes:
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {answer.status} {reason}"]
    payload = b""
    if answer.body is not None:
        payload = _payload(answer.body)
        lines.append(f"Content-Type: {answer.media_type}")
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {part.name}\r\n"
    return (head + "\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode() + payload + b"\r\n"


def _payload(body: object) -> bytes:
    """A response body as sent: text as it is (CSV, JSON the database wrote), else JSON."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False).encode()
