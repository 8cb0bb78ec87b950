"""$batch: many requests in one, in the JSON format of STA 1.1 or as multipart/mixed.

Requests run in order. Requests of one atomicity group (JSON) or changeset (multipart) run in
one transaction: when one fails, none of them is kept; in JSON the failing one answers with
its error and the others with 424 Failed Dependency, in multipart the change set is answered
by that one error (OData 4.0 §11.7.4). A later request may refer to an entity an
earlier one created by its id: `$1/Datastreams` in the URL, `{"@iot.id": "$1"}` in a body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from anyio import to_thread

from stadtkern.core.refs import TenantRef
from stadtkern.errors import BadRequest, Forbidden, StadtkernError
from stadtkern.http.problems import PROBLEM_JSON
from stadtkern.sensorthings.batch_multipart import (
    FAILED_DEPENDENCY,
    parse_multipart,
    render_multipart,
)
from stadtkern.sensorthings.batch_parts import BatchPart, parse_json_batch
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest, StaResponse

BATCH_PATH = "$batch"


@dataclass
class _Run:
    """State of one batch: the created entities by request id, the answers so far."""

    dispatcher: Dispatcher
    tenant: TenantRef
    base_url: str
    may_write: bool
    created: dict[str, str]
    answers: dict[str, StaResponse]


async def execute_batch(
    dispatcher: Dispatcher,
    tenant: TenantRef,
    body: bytes,
    content_type: str,
    *,
    base_url: str,
    may_write: bool,
) -> StaResponse:
    """Parse, run and answer a batch in the format it came in."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "multipart/mixed":
        parts = parse_multipart(body, content_type, base_url)
    elif media_type in ("application/json", ""):
        parts = parse_json_batch(body, base_url)
    else:
        raise BadRequest("a $batch body is application/json or multipart/mixed")
    limit = dispatcher.settings.max_batch_requests
    if len(parts) > limit:
        raise BadRequest(f"a $batch holds at most {limit} requests, this one {len(parts)}")
    run = _Run(dispatcher, tenant, base_url, may_write, {}, {})
    await to_thread.run_sync(lambda: _execute(run, parts))
    if media_type == "multipart/mixed":
        return render_multipart(parts, run.answers)
    responses = [_json_answer(part, run.answers[part.id]) for part in parts]
    return StaResponse(200, {"responses": responses})


def _execute(run: _Run, parts: Sequence[BatchPart]) -> None:
    index = 0
    while index < len(parts):
        group = parts[index].group
        if group is None:
            _single(run, parts[index])
            index += 1
            continue
        end = index
        while end < len(parts) and parts[end].group == group:
            end += 1
        _atomic(run, parts[index:end])
        index = end


def _single(run: _Run, part: BatchPart) -> None:
    try:
        request = _resolve_references(run, part.request)
        answer = run.dispatcher.handle(
            run.tenant, request, base_url=run.base_url, may_write=run.may_write
        )
    except StadtkernError as error:
        answer = error_answer(error)
    _remember(run, part, answer)


def _atomic(run: _Run, members: Sequence[BatchPart]) -> None:
    if not run.may_write:
        for part in members:
            run.answers[part.id] = error_answer(Forbidden("changes need the role 'operator'"))
        return
    failed: tuple[str, StadtkernError] | None = None
    created_before = dict(run.created)
    try:
        with run.dispatcher.transaction(run.tenant, run.base_url) as (session, made):
            for part in members:
                try:
                    request = _resolve_references(run, part.request)
                    answer, part_changes = run.dispatcher.execute(
                        session, run.tenant, request, base_url=run.base_url
                    )
                except StadtkernError as error:
                    failed = (part.id, error)
                    raise
                _remember(run, part, answer)
                made.extend(part_changes)
    except StadtkernError as error:
        failed = failed or (members[-1].id, error)
    if failed is not None:
        run.created = created_before
        for part in members:
            run.answers[part.id] = (
                error_answer(failed[1])
                if part.id == failed[0]
                else StaResponse(
                    FAILED_DEPENDENCY,
                    _problem(
                        FAILED_DEPENDENCY,
                        "Failed dependency",
                        f"request {failed[0]!r} of the same atomicity group failed; "
                        "nothing of the group was stored",
                    ),
                    PROBLEM_JSON,
                )
            )
        return


def _remember(run: _Run, part: BatchPart, answer: StaResponse) -> None:
    run.answers[part.id] = answer
    location = answer.headers.get("Location")
    if answer.status == 201 and location:
        run.created[part.name] = location[len(run.base_url) :].lstrip("/")


def _resolve_references(run: _Run, request: StaRequest) -> StaRequest:
    path = request.path
    if path.startswith("$"):
        head, _, rest = path[1:].partition("/")
        if head not in run.created:
            raise BadRequest(f"${head} names no entity created earlier in this batch")
        path = run.created[head] + ("/" + rest if rest else "")
    return replace(request, path=path, body=_resolve_body(run, request.body))


def _resolve_body(run: _Run, value: Any) -> Any:
    if isinstance(value, dict):
        resolved = {key: _resolve_body(run, item) for key, item in value.items()}
        reference = resolved.get("@iot.id")
        if isinstance(reference, str) and reference.startswith("$"):
            target = run.created.get(reference[1:])
            if target is None:
                raise BadRequest(f"{reference} names no entity created earlier in this batch")
            resolved["@iot.id"] = int(target[target.rindex("(") + 1 : -1])
        return resolved
    if isinstance(value, list):
        return [_resolve_body(run, item) for item in value]
    return value


def error_answer(error: StadtkernError) -> StaResponse:
    """A batch part's answer for an error: its problem document."""
    return StaResponse(
        error.status, _problem(error.status, error.title, error.detail), PROBLEM_JSON
    )


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "status": status, "detail": detail}


def _json_answer(part: BatchPart, answer: StaResponse) -> dict[str, Any]:
    item: dict[str, Any] = {"id": part.id, "status": answer.status}
    if answer.headers:
        item["headers"] = {name.lower(): value for name, value in answer.headers.items()}
    if isinstance(answer.body, bytes):  # JSON written as text (`$latest`, `$aggregate`)
        item["body"] = json.loads(answer.body)
    elif answer.body is not None:
        item["body"] = answer.body
    return item
