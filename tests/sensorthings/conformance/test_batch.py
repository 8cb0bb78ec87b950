"""Conformance class Batch Requests (OGC 18-088 §11.2, OData 4.0 Protocol §11.7).

Requirement class http://www.opengis.net/spec/iot_sensing/1.1/req/batch-request/batch-request.
Both forms: `multipart/mixed` with change sets (the standard's own) and the JSON batch format
of OData 4.01 (`{"requests": [...]}`), which STA 1.1 services commonly offer as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.sensorthings.conformance.conftest import (
    OM_MEASUREMENT,
    Json,
    Sta,
    assert_client_error,
    datastream_body,
    make_graph,
    sensor_body,
    thing_body,
)

BATCH = "batch_36522ad7-fc75-4b56-8c71-56071383e77b"
CHANGESET = "changeset_77162fcd-b8da-41ac-a9f8-9357efbbd"


# --- JSON batches -------------------------------------------------------------------------


def json_batch(sta: Sta, requests: list[Json]) -> list[Json]:
    """POST a JSON batch; insist on 200 and return the responses by request order."""
    response = sta.post("$batch", {"requests": requests})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    responses: list[Json] = response.json()["responses"]
    return responses


def by_id(responses: list[Json]) -> dict[str, Json]:
    """The JSON batch responses keyed by their request id."""
    return {str(item["id"]): item for item in responses}


def header(item: Json, name: str) -> str | None:
    """A header of a JSON batch response, looked up case-insensitively."""
    for key, value in (item.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def test_json_batch_runs_each_request(sta: Sta) -> None:
    """/req/batch-request/batch-request: a JSON batch answers 200 with one response per
    request, each with its own status (200, 201, 404)."""
    existing = sta.create_id("Things", thing_body("Laterne 1"))
    responses = by_id(
        json_batch(
            sta,
            [
                {"id": "0", "method": "get", "url": f"Things({existing})?$select=name"},
                {
                    "id": "1",
                    "atomicityGroup": "group1",
                    "method": "post",
                    "url": "Things",
                    "body": thing_body("Laterne 2"),
                },
                {
                    "id": "2",
                    "atomicityGroup": "group1",
                    "method": "patch",
                    "url": f"Things({existing})",
                    "body": {"name": "Laterne 1a"},
                },
                {"id": "3", "method": "get", "url": "Things(987654321)"},
            ],
        )
    )
    assert responses["0"]["status"] == 200
    assert responses["0"]["body"] == {"name": "Laterne 1"}
    assert responses["1"]["status"] == 201
    location = header(responses["1"], "location")
    assert location is not None
    assert location.startswith(f"{sta.service_url}/Things(")
    assert sta.read(location)["name"] == "Laterne 2"
    assert responses["2"]["status"] == 200
    assert responses["3"]["status"] == 404
    assert sta.read(f"Things({existing})")["name"] == "Laterne 1a"
    assert sta.count("Things") == 2


def test_json_batch_references_earlier_results(sta: Sta) -> None:
    """/req/batch-request/batch-request: within an atomicity group, `$<id>` stands for the
    entity a previous request created, in the URL and as an @iot.id."""
    graph = make_graph(sta)
    responses = by_id(
        json_batch(
            sta,
            [
                {
                    "id": "thing",
                    "atomicityGroup": "g1",
                    "method": "post",
                    "url": "Things",
                    "body": thing_body("Pegel Lauter"),
                },
                {
                    "id": "sensor",
                    "atomicityGroup": "g1",
                    "method": "post",
                    "url": "Sensors",
                    "body": sensor_body("Pegelsonde"),
                },
                {
                    "id": "stream",
                    "atomicityGroup": "g1",
                    "method": "post",
                    "url": "$thing/Datastreams",
                    "body": {
                        "name": "Pegelstand",
                        "description": "Wasserstand der Lauter",
                        "unitOfMeasurement": {
                            "name": "Zentimeter",
                            "symbol": "cm",
                            "definition": "ucum:cm",
                        },
                        "observationType": OM_MEASUREMENT,
                        "Sensor": {"@iot.id": "$sensor"},
                        "ObservedProperty": {"@iot.id": graph.observed_property},
                    },
                },
            ],
        )
    )
    assert [responses[key]["status"] for key in ("thing", "sensor", "stream")] == [201, 201, 201]
    stream = header(responses["stream"], "location")
    assert stream is not None
    assert sta.read(f"{stream}/Thing")["name"] == "Pegel Lauter"
    assert sta.read(f"{stream}/Sensor")["name"] == "Pegelsonde"


def test_json_atomicity_group_fails_as_a_whole(sta: Sta) -> None:
    """/req/batch-request/batch-request: if one request of an atomicity group fails, none of
    the group's changes remain; requests outside the group are independent."""
    graph = make_graph(sta)
    responses = by_id(
        json_batch(
            sta,
            [
                {
                    "id": "1",
                    "atomicityGroup": "g1",
                    "method": "post",
                    "url": "Things",
                    "body": thing_body("Laterne 2"),
                },
                {
                    "id": "2",
                    "atomicityGroup": "g1",
                    "method": "patch",
                    "url": f"Things({graph.thing})",
                    "body": {"name": "umbenannt"},
                },
                {
                    "id": "3",
                    "atomicityGroup": "g1",
                    "method": "post",
                    "url": "Datastreams",
                    "body": {"name": "ohne alles"},
                },
                {"id": "4", "method": "post", "url": "Things", "body": thing_body("Laterne 3")},
            ],
        )
    )
    group = [responses.get(key) for key in ("1", "2", "3")]
    statuses = [item["status"] for item in group if item is not None]
    assert any(status >= 400 for status in statuses), statuses
    assert not any(200 <= status < 300 for status in statuses), statuses
    assert responses["4"]["status"] == 201
    names = sorted(thing["name"] for thing in sta.values("Things"))
    assert names == ["Laterne 1", "Laterne 3"]
    assert sta.count("Datastreams") == 1


def test_json_batch_respects_roles(sta: Sta) -> None:
    """Each request of a batch is authorised as if sent alone: a viewer reads but does not
    write."""
    sta.create_id("Things", thing_body())
    viewer = sta.as_role("viewer")
    response = viewer.post(
        "$batch",
        {
            "requests": [
                {"id": "r", "method": "get", "url": "Things"},
                {"id": "w", "method": "post", "url": "Things", "body": thing_body("x")},
            ]
        },
    )
    assert response.status_code == 200, response.text
    responses = by_id(response.json()["responses"])
    assert responses["r"]["status"] == 200
    assert responses["w"]["status"] == 403
    assert sta.count("Things") == 1


def test_batch_cannot_reach_another_tenant(sta: Sta, make_sta: Callable[[], Sta]) -> None:
    """Tenant isolation: a batch of one tenant cannot address another tenant's service."""
    other = make_sta()
    foreign = other.create_id("Things", thing_body("fremd"))
    responses = by_id(
        json_batch(
            sta,
            [
                {"id": "1", "method": "get", "url": f"/{other.slug}/v1.1/Things({foreign})"},
                {"id": "2", "method": "delete", "url": f"/{other.slug}/v1.1/Things({foreign})"},
                {"id": "3", "method": "get", "url": f"{other.service_url}/Things"},
            ],
        )
    )
    for item in responses.values():
        assert item["status"] in (400, 404), item
    assert other.read(f"Things({foreign})")["name"] == "fremd"


def test_batch_inside_a_batch_is_refused(sta: Sta) -> None:
    """/req/batch-request/batch-request: a batch request may not contain another batch."""
    responses = by_id(
        json_batch(
            sta,
            [
                {
                    "id": "1",
                    "method": "post",
                    "url": "$batch",
                    "body": {"requests": [{"id": "a", "method": "get", "url": "Things"}]},
                },
                {"id": "2", "method": "get", "url": "Things"},
            ],
        )
    )
    assert 400 <= responses["1"]["status"] < 500
    assert responses["2"]["status"] == 200


# --- multipart batches --------------------------------------------------------------------


def http_part(
    method: str,
    url: str,
    body: Json | None = None,
    content_id: str | None = None,
) -> str:
    """One application/http part of a multipart batch request."""
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1", "Host: testserver"]
    if body is not None:
        payload = json.dumps(body)
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload.encode())}"]
        lines += ["", payload]
    else:
        lines += ["", ""]
    return "\r\n".join(lines)


def changeset(parts: list[str]) -> str:
    """A change set part holding the given application/http parts."""
    inner = "".join(f"--{CHANGESET}\r\n{part}\r\n" for part in parts)
    return f"Content-Type: multipart/mixed;boundary={CHANGESET}\r\n\r\n{inner}--{CHANGESET}--"


def multipart_body(parts: list[str]) -> str:
    """A whole multipart/mixed batch request body."""
    return "".join(f"--{BATCH}\r\n{part}\r\n" for part in parts) + f"--{BATCH}--\r\n"


@dataclass
class PartResponse:
    """One response inside a multipart batch response."""

    status: int
    headers: dict[str, str]
    body: str
    content_id: str | None = None

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class ChangesetResponse:
    """The responses of a change set that succeeded."""

    parts: list[PartResponse] = field(default_factory=list)


def _headers(block: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in block.split("\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            found[name.strip().lower()] = value.strip()
    return found


def _boundary(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    raise AssertionError(f"no boundary in {content_type!r}")


def _sections(body: str, boundary: str) -> list[str]:
    text = body.replace("\r\n", "\n")
    delimiter = f"--{boundary}"
    assert f"{delimiter}--" in text, f"multipart body does not close its boundary {boundary}"
    text = text[: text.index(f"{delimiter}--")]
    sections = text.split(delimiter)[1:]
    return [section.removeprefix("\n").removesuffix("\n") for section in sections]


def _http_response(section: str) -> PartResponse:
    head, _, payload = section.partition("\n\n")
    part_headers = _headers(head)
    assert part_headers.get("content-type", "").startswith("application/http"), part_headers
    status_block, _, body = payload.partition("\n\n")
    status_line, _, header_block = status_block.partition("\n")
    protocol, status, *_ = status_line.split(" ")
    assert protocol.upper() == "HTTP/1.1", status_line
    return PartResponse(
        int(status), _headers(header_block), body.strip(), part_headers.get("content-id")
    )


def parse_multipart(content_type: str, body: str) -> list[PartResponse | ChangesetResponse]:
    """The responses of a multipart batch response, change sets as ChangesetResponse."""
    parsed: list[PartResponse | ChangesetResponse] = []
    for section in _sections(body, _boundary(content_type)):
        head = section.partition("\n\n")[0]
        inner_type = _headers(head).get("content-type", "")
        if inner_type.startswith("multipart/mixed"):
            inner_body = section.partition("\n\n")[2]
            parsed.append(
                ChangesetResponse(
                    [_http_response(part) for part in _sections(inner_body, _boundary(inner_type))]
                )
            )
        else:
            parsed.append(_http_response(section))
    return parsed


def multipart_batch(sta: Sta, parts: list[str]) -> list[PartResponse | ChangesetResponse]:
    """POST a multipart batch; insist on 200 multipart/mixed and parse its parts."""
    response = sta.post(
        "$batch",
        content=multipart_body(parts),
        headers={"Content-Type": f"multipart/mixed;boundary={BATCH}"},
    )
    assert response.status_code == 200, response.text
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/mixed"), content_type
    return parse_multipart(content_type, response.text)


def test_multipart_batch_with_a_changeset(sta: Sta) -> None:
    """/req/batch-request/batch-request: the 18-088 §11.2.1 example: a GET, a change set of
    POST and PATCH, and a GET of a missing entity."""
    existing = sta.create_id("Things", thing_body("Laterne 1"))
    answers = multipart_batch(
        sta,
        [
            http_part("GET", f"{sta.root}/Things({existing})?$select=name"),
            changeset(
                [
                    http_part("POST", f"{sta.root}/Things", thing_body("Laterne 2"), "1"),
                    http_part("PATCH", f"{sta.root}/Things({existing})", {"name": "1a"}, "2"),
                ]
            ),
            http_part("GET", f"{sta.root}/Things(987654321)"),
        ],
    )
    assert len(answers) == 3
    first, middle, last = answers
    assert isinstance(first, PartResponse)
    assert first.status == 200
    assert first.json() == {"name": "Laterne 1"}
    assert isinstance(middle, ChangesetResponse)
    assert [part.status for part in middle.parts] == [201, 200]
    assert [part.content_id for part in middle.parts] == ["1", "2"]
    location = middle.parts[0].headers["location"]
    assert location.startswith(f"{sta.service_url}/Things(")
    assert sta.read(location)["name"] == "Laterne 2"
    assert isinstance(last, PartResponse)
    assert last.status == 404
    assert sta.read(f"Things({existing})")["name"] == "1a"


def test_multipart_urls_relative_absolute_path_and_absolute(sta: Sta) -> None:
    """/req/batch-request/batch-request: request URLs may be relative to the batch URL, an
    absolute path, or an absolute URL (OData 4.0 Protocol §11.7.2)."""
    thing = sta.create_id("Things", thing_body("Laterne 1"))
    answers = multipart_batch(
        sta,
        [
            http_part("GET", f"Things({thing})/name"),
            http_part("GET", f"{sta.root}/Things({thing})/name"),
            http_part("GET", f"{sta.service_url}/Things({thing})/name"),
        ],
    )
    for answer in answers:
        assert isinstance(answer, PartResponse)
        assert answer.status == 200
        assert answer.json() == {"name": "Laterne 1"}


def test_multipart_changeset_references_by_content_id(sta: Sta) -> None:
    """/req/batch-request/batch-request: in a change set, `$1` names the entity created by
    the request with Content-ID 1, as URL prefix and as @iot.id (18-088 §11.2.2)."""
    graph = make_graph(sta)
    answers = multipart_batch(
        sta,
        [
            changeset(
                [
                    http_part("POST", f"{sta.root}/Things", thing_body("Pegel Lauter"), "1"),
                    http_part("POST", f"{sta.root}/Sensors", sensor_body("Pegelsonde"), "sensor1"),
                    http_part(
                        "POST",
                        "$1/Datastreams",
                        {
                            "name": "Pegelstand",
                            "description": "Wasserstand der Lauter",
                            "unitOfMeasurement": {
                                "name": "cm",
                                "symbol": "cm",
                                "definition": "ucum:cm",
                            },
                            "observationType": OM_MEASUREMENT,
                            "Sensor": {"@iot.id": "$sensor1"},
                            "ObservedProperty": {"@iot.id": graph.observed_property},
                        },
                        "3",
                    ),
                ]
            )
        ],
    )
    (only,) = answers
    assert isinstance(only, ChangesetResponse)
    assert [part.status for part in only.parts] == [201, 201, 201]
    datastream = only.parts[2].headers["location"]
    assert sta.read(f"{datastream}/Thing")["name"] == "Pegel Lauter"
    assert sta.read(f"{datastream}/Sensor")["name"] == "Pegelsonde"


def test_multipart_failed_changeset_is_one_error_and_rolled_back(sta: Sta) -> None:
    """/req/batch-request/batch-request: a change set is atomic; when one of its requests
    fails the answer for the whole change set is a single error response (OData 4.0
    §11.7.4) and nothing of it is stored; later parts still run."""
    graph = make_graph(sta)
    answers = multipart_batch(
        sta,
        [
            changeset(
                [
                    http_part("POST", f"{sta.root}/Things", thing_body("Laterne 2"), "1"),
                    http_part("PATCH", f"{sta.root}/Things({graph.thing})", {"name": "x"}, "2"),
                    http_part(
                        "POST",
                        f"{sta.root}/Datastreams",
                        datastream_body(graph.thing, graph.sensor, 987654321),
                        "3",
                    ),
                ]
            ),
            http_part("GET", f"{sta.root}/Things?$select=name&$orderby=name"),
        ],
    )
    failed, listing = answers
    assert isinstance(listing, PartResponse)
    assert listing.status == 200
    assert listing.json()["value"] == [{"name": "Laterne 1"}]
    assert sta.count("Datastreams") == 1
    assert isinstance(failed, PartResponse), f"expected one response for the change set: {failed}"
    assert 400 <= failed.status < 500


MULTIPART = f"multipart/mixed;boundary={BATCH}"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"requests": 5}', "application/json"),
        ('{"requests": [{"id": "1", "url": "Things"}]}', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("kein Batch", MULTIPART),
        (f"--{BATCH}\r\nContent-Type: application/http\r\n\r\nGET\r\n--{BATCH}--", MULTIPART),
        (f"--{BATCH}\r\nContent-Type: application/http\r\n\r\nGET Things HTTP/1.1\r\n", MULTIPART),
    ],
)
def test_malformed_batches_are_400(sta: Sta, content: str, content_type: str) -> None:
    """/req/batch-request/batch-request: a body that is not a batch is refused with 400."""
    response = sta.post("$batch", content=content, headers={"Content-Type": content_type})
    assert_client_error(response, 400)


def test_json_batch_request_with_an_unknown_method_fails_alone(sta: Sta) -> None:
    """/req/batch-request/batch-request: a request the service cannot perform fails with a
    4xx of its own (or the batch is refused as a whole), never a 5xx."""
    response = sta.post(
        "$batch",
        {
            "requests": [
                {"id": "1", "method": "launch", "url": "Things"},
                {"id": "2", "method": "post", "url": "Things", "body": thing_body()},
            ]
        },
    )
    if response.status_code == 200:
        responses = by_id(response.json()["responses"])
        assert responses["1"]["status"] in (400, 405)
        assert responses["2"]["status"] == 201
        assert sta.count("Things") == 1
    else:
        assert_client_error(response, 400)
        assert sta.count("Things") == 0


def test_batch_of_observations_for_one_datastream(sta: Sta) -> None:
    """/req/batch-request/batch-request: many creations in one change set all land."""
    graph = make_graph(sta)
    answers = multipart_batch(
        sta,
        [
            changeset(
                [
                    http_part(
                        "POST",
                        f"Datastreams({graph.datastream})/Observations",
                        {"phenomenonTime": f"2024-05-01T12:{minute:02d}:00Z", "result": minute},
                        str(minute + 1),
                    )
                    for minute in range(5)
                ]
            )
        ],
    )
    (only,) = answers
    assert isinstance(only, ChangesetResponse)
    assert [part.status for part in only.parts] == [201] * 5
    results = [
        o["result"]
        for o in sta.values(
            f"Datastreams({graph.datastream})/Observations", {"$orderby": "phenomenonTime"}
        )
    ]
    assert results == [0, 1, 2, 3, 4]
