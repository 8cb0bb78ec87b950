"""A small HTTP client for the platform's API: JSON in and out, one kept-alive connection."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

RETRIES = 5


class ApiError(RuntimeError):
    """The platform answered with an error (the problem+json detail is in the message)."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        detail = body.decode("utf-8", "replace")[:800]
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")
        self.status = status


class Platform:
    """One tenant of a running Stadtkern, reached over HTTP with an API key."""

    def __init__(self, base_url: str, tenant: str, token: str, *, timeout: float = 120.0) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the platform URL must be http(s)://host[:port]: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self.tenant = tenant
        self._token = token
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._scheme == "https"
                else http.client.HTTPConnection
            )
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        raw: bytes | None = None,
    ) -> Any:
        """Send a request under the tenant's prefix; the decoded JSON answer (None if empty).

        A 503 (the platform's ingest queue is full) is retried after its Retry-After; so is a
        dropped connection, for reads only (a write may have been applied).
        """
        url = f"{self._prefix}/{quote(self.tenant)}{path}"
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in range(RETRIES):
            connection = self._connect()
            try:
                connection.request(method, url, body=data, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                self.close()
                if method != "GET" or attempt == RETRIES - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
                continue
            if answer.status == 503 and attempt < RETRIES - 1:
                time.sleep(float(answer.getheader("Retry-After") or "1"))
                continue
            if answer.status >= 400:
                raise ApiError(method, url, answer.status, payload)
            return json.loads(payload) if payload else None
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every entity of a SensorThings collection, following nextLinks."""
        next_path: str | None = path
        while next_path is not None:
            page = self.request("GET", next_path)
            yield from page.get("value", [])
            link = page.get("@iot.nextLink")
            next_path = None
            if link:
                marker = f"/{self.tenant}"
                position = link.find(marker + "/v1.1")
                next_path = link[position + len(marker) :] if position >= 0 else None


def wait_until_up(base_url: str, *, timeout: float = 60.0) -> None:
    """Wait for the platform's /healthz to answer 200."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + timeout
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        try:
            connection.request("GET", f"{parts.path.rstrip('/')}/healthz")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the platform at {base_url} did not come up")
        time.sleep(0.3)
