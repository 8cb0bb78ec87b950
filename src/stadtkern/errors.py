"""Domain errors raised by the service layer; adapters map them to HTTP, CLI or MQTT."""

from __future__ import annotations


class StadtkernError(Exception):
    """Base of every error the service layer raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(StadtkernError):
    """The request is well-formed but its content is not acceptable."""

    status = 422
    title = "Invalid input"


class NotFound(StadtkernError):
    """The object does not exist, or not for this tenant and principal."""

    status = 404
    title = "Not found"


class Conflict(StadtkernError):
    """The request collides with the current state (for example a taken slug)."""

    status = 409
    title = "Conflict"


class Unauthenticated(StadtkernError):
    """No valid credentials were presented."""

    status = 401
    title = "Authentication required"

    def __init__(self, detail: str, *, challenge: str = "", **extensions: object) -> None:
        super().__init__(detail, **extensions)
        # The WWW-Authenticate header; empty: the platform's default (Bearer).
        self.challenge = challenge


class Forbidden(StadtkernError):
    """The principal is known but lacks the role for this action."""

    status = 403
    title = "Forbidden"


class TooManyRequests(StadtkernError):
    """Too many attempts; the client should wait."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(StadtkernError):
    """A dependency is down or the platform is overloaded; the client may retry."""

    status = 503
    title = "Service unavailable"


class BadRequest(StadtkernError):
    """The request is malformed: a protocol whose standard demands 400 (SensorThings API)."""

    status = 400
    title = "Bad request"


class PayloadTooLarge(StadtkernError):
    """The request body is larger than this operation takes."""

    status = 413
    title = "Request body too large"
