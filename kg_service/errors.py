"""The error tree and the one error body (RFC 9457 problem+json).

Every failure the service reports is a ``KGError``; views turn it into a problem
document with :func:`problem`. The core raises these and never imports Flask.
"""

from __future__ import annotations

from typing import Any


class KGError(Exception):
    """Base of every error the service reports to a user."""

    status = 500
    title = "Internal error"
    type_suffix = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": f"https://w3id.org/ckm/problems/{self.type_suffix}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update({k: v for k, v in self.extra.items() if v is not None})
        return body


class BadRequest(KGError):
    status, title, type_suffix = 400, "Bad request", "bad-request"


class BadQuery(BadRequest):
    """A SPARQL query or update that does not parse or is not allowed.

    ``line``/``column`` (1-based) point at the problem when the parser says where.
    """

    title, type_suffix = "Bad SPARQL", "bad-query"


class BadData(KGError):
    """Data that cannot be loaded: ``file`` and ``line`` say where."""

    status, title, type_suffix = 422, "Bad data", "bad-data"

    def __init__(self, detail: str, *, file: str | None = None, line: int | None = None,
                 **extra: Any) -> None:
        where = ":".join(str(x) for x in (file, line) if x is not None)
        super().__init__(f"{where}: {detail}" if where else detail, file=file, line=line,
                         **extra)


class ValidationFailed(KGError):
    """A change refused by SHACL or the reasoner; ``violations`` lists why."""

    status, title, type_suffix = 422, "Validation failed", "validation-failed"


class Unauthorized(KGError):
    status, title, type_suffix = 401, "Unauthorized", "unauthorized"


class Forbidden(KGError):
    status, title, type_suffix = 403, "Forbidden", "forbidden"


class NotFound(KGError):
    status, title, type_suffix = 404, "Not found", "not-found"


class NotAcceptable(KGError):
    status, title, type_suffix = 406, "Not acceptable", "not-acceptable"


class Conflict(KGError):
    status, title, type_suffix = 409, "Conflict", "conflict"


class PreconditionFailed(KGError):
    status, title, type_suffix = 412, "Precondition failed", "precondition-failed"


class TooLarge(KGError):
    status, title, type_suffix = 413, "Request too large", "too-large"


class UnsupportedMediaType(KGError):
    status, title, type_suffix = 415, "Unsupported media type", "unsupported-media-type"


class TimedOut(KGError):
    status, title, type_suffix = 503, "Query timed out", "timed-out"


class Unavailable(KGError):
    status, title, type_suffix = 503, "Service unavailable", "unavailable"


class ReasonerFailed(KGError):
    """The reasoner could not run (no Java, crash): an error, never a pass."""

    status, title, type_suffix = 500, "Reasoner failed", "reasoner-failed"
