"""Domain errors: each maps to one HTTP problem type in the API's error middleware."""

from __future__ import annotations

from typing import Any


class TravelError(Exception):
    """Base of every error the service reports to a caller on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, param: str | None = None, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.param = param
        self.extensions = extensions or {}  # extra members of the problem document


class InvalidParameter(TravelError):
    """A query parameter or body field is malformed, out of range or unknown."""

    title = "Invalid parameter"


class InvalidRecord(TravelError):
    """A record (from a feed or an import) fails validation; nothing is stored."""

    status = 422
    title = "Invalid record"


class Unanswerable(TravelError):
    """A well-formed request the data cannot answer (no route, no rate, the same place twice)."""

    status = 422
    title = "Unanswerable"


class NotFound(TravelError):
    """The requested resource does not exist."""

    status = 404
    title = "Not found"


class ServiceUnavailable(TravelError):
    """A backend (store or bus) cannot be reached right now; retry later."""

    status = 503
    title = "Service unavailable"
    retry_after_s = 5


class StoreUnavailable(ServiceUnavailable):
    """The durable store cannot be reached."""


class BusUnavailable(ServiceUnavailable):
    """The change bus cannot be reached."""


class Unauthorized(TravelError):
    """A push is not signed, or not signed with the source's secret."""

    status = 401
    title = "Unauthorized"


class Conflict(TravelError):
    """The request repeats one already taken (a replayed push)."""

    status = 409
    title = "Conflict"
